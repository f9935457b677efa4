"""Source of the built-in ``ia_basic`` suite; ``python -m core.benchmark.suites.ia_basic_source`` rewrites
``ia_basic.jsonl`` from it. Each problem: tier, prompt (signature + docstring), canonical body, check body.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

__all__ = ["PROBLEMS", "records", "write"]

# (tier, entry_point, prompt, canonical_solution, test) — prompt and solution as HumanEval lays them out.
PROBLEMS: list[tuple[str, str, str, str, str]] = []


def _add(tier: str, name: str, prompt: str, solution: str, test: str) -> None:
    PROBLEMS.append(
        (
            tier,
            name,
            textwrap.dedent(prompt).lstrip("\n"),
            textwrap.indent(textwrap.dedent(solution).strip("\n"), "    "),
            textwrap.dedent(test).strip("\n"),
        )
    )


# ---------------------------------------------------------------- easy
_add(
    "easy",
    "is_prime",
    '''
def is_prime(n: int) -> bool:
    """Return True if n is a prime number, False otherwise.
    Numbers below 2 (including 0, 1 and negative numbers) are not prime.
    >>> is_prime(7)
    True
    >>> is_prime(1)
    False
    """
''',
    """
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    i = 3
    while i * i <= n:
        if n % i == 0:
            return False
        i += 2
    return True
""",
    """
def check(candidate):
    assert candidate(2) is True
    assert candidate(3) is True
    assert candidate(1) is False
    assert candidate(0) is False
    assert candidate(-7) is False
    assert candidate(4) is False
    assert candidate(9) is False
    assert candidate(25) is False
    assert candidate(49) is False
    assert candidate(97) is True
    assert candidate(7919) is True
    assert candidate(7917) is False
    assert candidate(1_000_000_007) is True
    assert candidate(999_999_999_989 * 1) is True
    assert candidate(1_000_003 * 1_000_033) is False
""",
)

_add(
    "easy",
    "fibonacci",
    '''
def fibonacci(n: int) -> int:
    """Return the n-th Fibonacci number with fibonacci(0) == 0 and fibonacci(1) == 1.
    Raise ValueError for negative n. Must be fast for n up to a few thousand.
    >>> fibonacci(10)
    55
    """
''',
    """
    if n < 0:
        raise ValueError("n must be non-negative")
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a
""",
    """
def check(candidate):
    assert candidate(0) == 0
    assert candidate(1) == 1
    assert candidate(2) == 1
    assert candidate(3) == 2
    assert candidate(10) == 55
    assert candidate(30) == 832040
    assert candidate(90) == 2880067194370816120
    assert str(candidate(1000)).startswith("4346655768693745643")
    for bad in (-1, -10):
        try:
            candidate(bad)
        except ValueError:
            pass
        else:
            raise AssertionError("negative input must raise ValueError")
""",
)

_add(
    "easy",
    "factorial",
    '''
def factorial(n: int) -> int:
    """Return n! for a non-negative integer n (factorial(0) == 1).
    Raise ValueError if n is negative and TypeError if n is not an int (bool counts as not an int).
    >>> factorial(5)
    120
    """
''',
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError("n must be an int")
    if n < 0:
        raise ValueError("n must be non-negative")
    result = 1
    for i in range(2, n + 1):
        result *= i
    return result
""",
    """
def check(candidate):
    assert candidate(0) == 1
    assert candidate(1) == 1
    assert candidate(2) == 2
    assert candidate(5) == 120
    assert candidate(10) == 3628800
    assert candidate(25) == 15511210043330985984000000
    assert len(str(candidate(500))) == 1135
    for bad, error in ((-1, ValueError), (-5, ValueError), (2.0, TypeError), ("3", TypeError), (True, TypeError)):
        try:
            candidate(bad)
        except error:
            pass
        else:
            raise AssertionError(f"factorial({bad!r}) must raise {error.__name__}")
""",
)

_add(
    "easy",
    "sum_of_digits",
    '''
def sum_of_digits(n: int) -> int:
    """Return the sum of the decimal digits of n; the sign is ignored.
    >>> sum_of_digits(-123)
    6
    """
''',
    """
    return sum(int(d) for d in str(abs(n)))
""",
    """
def check(candidate):
    assert candidate(0) == 0
    assert candidate(7) == 7
    assert candidate(123) == 6
    assert candidate(-123) == 6
    assert candidate(1000) == 1
    assert candidate(99999) == 45
    assert candidate(10**50) == 1
    assert candidate(-(10**20 - 1)) == 180
""",
)

_add(
    "easy",
    "count_vowels",
    '''
def count_vowels(text: str) -> int:
    """Count the vowels a, e, i, o, u in text, ignoring case. y is not a vowel.
    >>> count_vowels("Hello World")
    3
    """
''',
    """
    return sum(1 for ch in text.lower() if ch in "aeiou")
""",
    """
def check(candidate):
    assert candidate("") == 0
    assert candidate("Hello World") == 3
    assert candidate("AEIOU") == 5
    assert candidate("rhythm") == 0
    assert candidate("yY") == 0
    assert candidate("Programming in PYTHON") == 5
    assert candidate("a" * 1000) == 1000
""",
)

_add(
    "easy",
    "is_palindrome",
    '''
def is_palindrome(text: str) -> bool:
    """Return True if text reads the same backwards, considering only letters and digits and ignoring case.
    >>> is_palindrome("A man, a plan, a canal: Panama")
    True
    """
''',
    """
    chars = [c.lower() for c in text if c.isalnum()]
    return chars == chars[::-1]
""",
    """
def check(candidate):
    assert candidate("") is True
    assert candidate("a") is True
    assert candidate("A man, a plan, a canal: Panama") is True
    assert candidate("race a car") is False
    assert candidate("No 'x' in Nixon") is True
    assert candidate("ab") is False
    assert candidate("12321") is True
    assert candidate("123 21") is True
    assert candidate("1231") is False
""",
)

_add(
    "easy",
    "second_largest",
    '''
def second_largest(numbers: list) -> int | None:
    """Return the second largest distinct value in numbers, or None if there is no such value.
    >>> second_largest([3, 1, 4, 4])
    3
    """
''',
    """
    distinct = sorted(set(numbers))
    return distinct[-2] if len(distinct) >= 2 else None
""",
    """
def check(candidate):
    assert candidate([3, 1, 4, 4]) == 3
    assert candidate([1, 2]) == 1
    assert candidate([5, 5, 5]) is None
    assert candidate([]) is None
    assert candidate([7]) is None
    assert candidate([-1, -2, -3]) == -2
    assert candidate([10, 9, 10, 8]) == 9
    assert candidate(list(range(10000))) == 9998
""",
)

_add(
    "easy",
    "gcd",
    '''
def gcd(a: int, b: int) -> int:
    """Return the greatest common divisor of a and b, always non-negative; gcd(0, 0) == 0.
    >>> gcd(12, -18)
    6
    """
''',
    """
    a, b = abs(a), abs(b)
    while b:
        a, b = b, a % b
    return a
""",
    """
def check(candidate):
    assert candidate(12, 18) == 6
    assert candidate(12, -18) == 6
    assert candidate(-12, -18) == 6
    assert candidate(0, 5) == 5
    assert candidate(5, 0) == 5
    assert candidate(0, 0) == 0
    assert candidate(17, 13) == 1
    assert candidate(2**61 - 1, 2**31 - 1) == 1
    assert candidate(10**18, 10**12) == 10**12
""",
)

_add(
    "easy",
    "is_leap_year",
    '''
def is_leap_year(year: int) -> bool:
    """Return True if year is a leap year in the Gregorian calendar.
    >>> is_leap_year(2000)
    True
    """
''',
    """
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
""",
    """
def check(candidate):
    assert candidate(2000) is True
    assert candidate(1900) is False
    assert candidate(2024) is True
    assert candidate(2023) is False
    assert candidate(2100) is False
    assert candidate(2400) is True
    assert candidate(4) is True
""",
)

_add(
    "easy",
    "fizzbuzz",
    '''
def fizzbuzz(n: int) -> list:
    """Return the FizzBuzz strings for 1..n: "Fizz" for multiples of 3, "Buzz" for 5, "FizzBuzz" for both,
    the number as a string otherwise. n <= 0 gives an empty list.
    >>> fizzbuzz(5)
    ['1', '2', 'Fizz', '4', 'Buzz']
    """
''',
    """
    out = []
    for i in range(1, n + 1):
        if i % 15 == 0:
            out.append("FizzBuzz")
        elif i % 3 == 0:
            out.append("Fizz")
        elif i % 5 == 0:
            out.append("Buzz")
        else:
            out.append(str(i))
    return out
""",
    """
def check(candidate):
    assert candidate(0) == []
    assert candidate(-3) == []
    assert candidate(1) == ["1"]
    assert candidate(5) == ["1", "2", "Fizz", "4", "Buzz"]
    result = candidate(30)
    assert len(result) == 30
    assert result[14] == "FizzBuzz" and result[29] == "FizzBuzz"
    assert result[8] == "Fizz" and result[9] == "Buzz" and result[10] == "11"
""",
)

_add(
    "easy",
    "clamp",
    '''
def clamp(value: float, low: float, high: float) -> float:
    """Limit value to the range [low, high]. Raise ValueError if low > high.
    >>> clamp(15, 0, 10)
    10
    """
''',
    """
    if low > high:
        raise ValueError("low must not exceed high")
    return max(low, min(value, high))
""",
    """
def check(candidate):
    assert candidate(15, 0, 10) == 10
    assert candidate(-5, 0, 10) == 0
    assert candidate(5, 0, 10) == 5
    assert candidate(0, 0, 10) == 0
    assert candidate(10, 0, 10) == 10
    assert candidate(2.5, 2.5, 2.5) == 2.5
    assert candidate(-1.5, -2.0, -1.0) == -1.5
    try:
        candidate(1, 5, 0)
    except ValueError:
        pass
    else:
        raise AssertionError("low > high must raise ValueError")
""",
)

_add(
    "easy",
    "reverse_words",
    '''
def reverse_words(sentence: str) -> str:
    """Return the words of sentence in reverse order, separated by single spaces.
    Leading, trailing and repeated whitespace is dropped.
    >>> reverse_words("  hello   world ")
    'world hello'
    """
''',
    """
    return " ".join(reversed(sentence.split()))
""",
    """
def check(candidate):
    assert candidate("hello world") == "world hello"
    assert candidate("  hello   world ") == "world hello"
    assert candidate("") == ""
    assert candidate("   ") == ""
    assert candidate("one") == "one"
    assert candidate("a b c d") == "d c b a"
    assert candidate("tab\\tseparated\\nlines") == "lines separated tab"
""",
)

_add(
    "easy",
    "celsius_to_fahrenheit",
    '''
def celsius_to_fahrenheit(celsius: float) -> float:
    """Convert a temperature from degrees Celsius to degrees Fahrenheit.
    Raise ValueError below absolute zero (-273.15 C).
    >>> celsius_to_fahrenheit(100)
    212.0
    """
''',
    """
    if celsius < -273.15:
        raise ValueError("below absolute zero")
    return celsius * 9 / 5 + 32
""",
    """
def check(candidate):
    assert abs(candidate(100) - 212.0) < 1e-9
    assert abs(candidate(0) - 32.0) < 1e-9
    assert abs(candidate(-40) - (-40.0)) < 1e-9
    assert abs(candidate(37.5) - 99.5) < 1e-9
    assert abs(candidate(-273.15) - (-459.67)) < 1e-9
    try:
        candidate(-300)
    except ValueError:
        pass
    else:
        raise AssertionError("below absolute zero must raise ValueError")
""",
)

_add(
    "easy",
    "count_words",
    '''
def count_words(text: str) -> dict:
    """Count how often each word occurs in text. Words are lower-cased runs of letters (a-z); anything
    else separates words.
    >>> count_words("The cat and the hat.")
    {'the': 2, 'cat': 1, 'and': 1, 'hat': 1}
    """
''',
    """
    import re
    counts = {}
    for word in re.findall(r"[a-z]+", text.lower()):
        counts[word] = counts.get(word, 0) + 1
    return counts
""",
    """
def check(candidate):
    assert candidate("The cat and the hat.") == {"the": 2, "cat": 1, "and": 1, "hat": 1}
    assert candidate("") == {}
    assert candidate("...!!!") == {}
    assert candidate("Hello, hello; HELLO") == {"hello": 3}
    assert candidate("don't stop") == {"don": 1, "t": 1, "stop": 1}
    assert candidate("a1b2c") == {"a": 1, "b": 1, "c": 1}
""",
)

# ---------------------------------------------------------------- medium
_add(
    "medium",
    "run_length_encode",
    '''
def run_length_encode(text: str) -> str:
    """Encode text with run-length encoding: each run becomes the count followed by the character.
    >>> run_length_encode("aaabccdddd")
    '3a1b2c4d'
    """
''',
    """
    if not text:
        return ""
    out = []
    current, count = text[0], 1
    for ch in text[1:]:
        if ch == current:
            count += 1
        else:
            out.append(f"{count}{current}")
            current, count = ch, 1
    out.append(f"{count}{current}")
    return "".join(out)
""",
    """
def check(candidate):
    assert candidate("") == ""
    assert candidate("a") == "1a"
    assert candidate("aaabccdddd") == "3a1b2c4d"
    assert candidate("abc") == "1a1b1c"
    assert candidate("aaaaaaaaaaaa") == "12a"
    assert candidate("aabbaa") == "2a2b2a"
    assert candidate("  ") == "2 "
""",
)

_add(
    "medium",
    "balanced_brackets",
    '''
def balanced_brackets(text: str) -> bool:
    """Return True if the brackets (), [] and {} in text are balanced and properly nested.
    Other characters are ignored.
    >>> balanced_brackets("{[()]}")
    True
    """
''',
    """
    pairs = {")": "(", "]": "[", "}": "{"}
    stack = []
    for ch in text:
        if ch in "([{":
            stack.append(ch)
        elif ch in pairs:
            if not stack or stack.pop() != pairs[ch]:
                return False
    return not stack
""",
    """
def check(candidate):
    assert candidate("") is True
    assert candidate("{[()]}") is True
    assert candidate("([)]") is False
    assert candidate("((") is False
    assert candidate("))") is False
    assert candidate("a(b)c[d]{e}") is True
    assert candidate("}{") is False
    assert candidate("(" * 5000 + ")" * 5000) is True
    assert candidate("(" * 5000 + ")" * 4999) is False
""",
)

_add(
    "medium",
    "roman_to_int",
    '''
def roman_to_int(numeral: str) -> int:
    """Convert a valid Roman numeral (I, V, X, L, C, D, M with subtractive notation) to an integer.
    >>> roman_to_int("MCMXCIV")
    1994
    """
''',
    """
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
    total = 0
    for i, ch in enumerate(numeral):
        value = values[ch]
        if i + 1 < len(numeral) and values[numeral[i + 1]] > value:
            total -= value
        else:
            total += value
    return total
""",
    """
def check(candidate):
    assert candidate("I") == 1
    assert candidate("IV") == 4
    assert candidate("IX") == 9
    assert candidate("XL") == 40
    assert candidate("XC") == 90
    assert candidate("CD") == 400
    assert candidate("CM") == 900
    assert candidate("MCMXCIV") == 1994
    assert candidate("MMMCMXCIX") == 3999
    assert candidate("LVIII") == 58
""",
)

_add(
    "medium",
    "int_to_roman",
    '''
def int_to_roman(number: int) -> str:
    """Convert an integer from 1 to 3999 to a Roman numeral; raise ValueError outside that range.
    >>> int_to_roman(1994)
    'MCMXCIV'
    """
''',
    """
    if not 1 <= number <= 3999:
        raise ValueError("out of range")
    table = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
             (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = []
    for value, symbol in table:
        while number >= value:
            out.append(symbol)
            number -= value
    return "".join(out)
""",
    """
def check(candidate):
    assert candidate(1) == "I"
    assert candidate(4) == "IV"
    assert candidate(9) == "IX"
    assert candidate(14) == "XIV"
    assert candidate(40) == "XL"
    assert candidate(1994) == "MCMXCIV"
    assert candidate(3999) == "MMMCMXCIX"
    assert candidate(2024) == "MMXXIV"
    assert candidate(944) == "CMXLIV"
    assert candidate(3888) == "MMMDCCCLXXXVIII"
    assert [candidate(v) for v in (5, 50, 90, 400, 500, 1000)] == ["V", "L", "XC", "CD", "D", "M"]
    for bad in (0, -1, 4000):
        try:
            candidate(bad)
        except ValueError:
            pass
        else:
            raise AssertionError(f"{bad} must raise ValueError")
""",
)

_add(
    "medium",
    "merge_intervals",
    '''
def merge_intervals(intervals: list) -> list:
    """Merge overlapping or touching closed intervals given as [start, end] pairs.
    Return the merged intervals as [start, end] lists sorted by start.
    >>> merge_intervals([[1, 3], [2, 6], [8, 10], [10, 12]])
    [[1, 6], [8, 12]]
    """
''',
    """
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged
""",
    """
def check(candidate):
    assert candidate([]) == []
    assert candidate([[1, 3], [2, 6], [8, 10], [10, 12]]) == [[1, 6], [8, 12]]
    assert candidate([[5, 7], [1, 2]]) == [[1, 2], [5, 7]]
    assert candidate([[1, 10], [2, 3], [4, 5]]) == [[1, 10]]
    assert candidate([[1, 2], [3, 4]]) == [[1, 2], [3, 4]]
    assert candidate([[1, 4], [4, 4]]) == [[1, 4]]
    assert candidate([[-5, -1], [-2, 0]]) == [[-5, 0]]
""",
)

_add(
    "medium",
    "binary_search",
    '''
def binary_search(items: list, target: int) -> int:
    """Return the index of the first occurrence of target in the sorted list items, or -1 if absent.
    >>> binary_search([1, 2, 2, 2, 3], 2)
    1
    """
''',
    """
    lo, hi = 0, len(items)
    while lo < hi:
        mid = (lo + hi) // 2
        if items[mid] < target:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < len(items) and items[lo] == target else -1
""",
    """
def check(candidate):
    assert candidate([], 3) == -1
    assert candidate([1], 1) == 0
    assert candidate([1], 2) == -1
    assert candidate([1, 2, 2, 2, 3], 2) == 1
    assert candidate([1, 3, 5, 7], 7) == 3
    assert candidate([1, 3, 5, 7], 0) == -1
    assert candidate([1, 3, 5, 7], 8) == -1
    assert candidate([1, 3, 5, 7], 4) == -1
    big = list(range(0, 2_000_000, 2))
    assert candidate(big, 1_999_998) == 999_999
    assert candidate(big, 1_000_001) == -1
""",
)

_add(
    "medium",
    "flatten",
    '''
def flatten(nested: list) -> list:
    """Flatten arbitrarily nested lists (and tuples) into one list, keeping order. Strings are not split.
    >>> flatten([1, [2, (3, [4])], "ab"])
    [1, 2, 3, 4, 'ab']
    """
''',
    """
    out = []
    stack = [iter(nested)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, (list, tuple)):
                stack.append(iter(item))
                break
            out.append(item)
        else:
            stack.pop()
    return out
""",
    """
def check(candidate):
    assert candidate([]) == []
    assert candidate([1, 2, 3]) == [1, 2, 3]
    assert candidate([1, [2, (3, [4])], "ab"]) == [1, 2, 3, 4, "ab"]
    assert candidate([[[]], [[], [5]]]) == [5]
    assert candidate(["abc", ["de"]]) == ["abc", "de"]
    deep = [1]
    for _ in range(3000):
        deep = [deep]
    assert candidate(deep) == [1]
""",
)

_add(
    "medium",
    "caesar_cipher",
    '''
def caesar_cipher(text: str, shift: int) -> str:
    """Shift each ASCII letter of text by shift places in the alphabet, wrapping around and keeping case.
    Other characters are unchanged; shift may be negative or larger than 26.
    >>> caesar_cipher("Hello, World!", 3)
    'Khoor, Zruog!'
    """
''',
    """
    out = []
    for ch in text:
        if "a" <= ch <= "z":
            out.append(chr((ord(ch) - 97 + shift) % 26 + 97))
        elif "A" <= ch <= "Z":
            out.append(chr((ord(ch) - 65 + shift) % 26 + 65))
        else:
            out.append(ch)
    return "".join(out)
""",
    """
def check(candidate):
    assert candidate("Hello, World!", 3) == "Khoor, Zruog!"
    assert candidate("xyz", 3) == "abc"
    assert candidate("ABC", -1) == "ZAB"
    assert candidate("abc", 26) == "abc"
    assert candidate("abc", 53) == "bcd"
    assert candidate("", 5) == ""
    assert candidate("éà 123", 4) == "éà 123"
    assert candidate(candidate("Round Trip", 11), -11) == "Round Trip"
""",
)

_add(
    "medium",
    "two_sum",
    '''
def two_sum(numbers: list, target: int) -> tuple | None:
    """Return the pair of indices (i, j), i < j, of the first pair (smallest j, then smallest i) whose values
    add up to target, or None if there is none.
    >>> two_sum([2, 7, 11, 15], 9)
    (0, 1)
    """
''',
    """
    seen = {}
    for j, value in enumerate(numbers):
        if target - value in seen:
            return (seen[target - value], j)
        seen.setdefault(value, j)
    return None
""",
    """
def check(candidate):
    assert candidate([2, 7, 11, 15], 9) == (0, 1)
    assert candidate([3, 2, 4], 6) == (1, 2)
    assert candidate([3, 3], 6) == (0, 1)
    assert candidate([1, 2, 3], 7) is None
    assert candidate([], 0) is None
    assert candidate([5], 10) is None
    assert candidate([1, 5, 1, 5], 6) == (0, 1)
    assert candidate([-3, 4, 3, 90], 0) == (0, 2)
    assert candidate(list(range(20000)), 39997) == (19998, 19999)
""",
)

_add(
    "medium",
    "longest_common_prefix",
    '''
def longest_common_prefix(words: list) -> str:
    """Return the longest common prefix of all strings in words ("" for an empty list).
    >>> longest_common_prefix(["flower", "flow", "flight"])
    'fl'
    """
''',
    """
    if not words:
        return ""
    prefix = words[0]
    for word in words[1:]:
        while not word.startswith(prefix):
            prefix = prefix[:-1]
    return prefix
""",
    """
def check(candidate):
    assert candidate(["flower", "flow", "flight"]) == "fl"
    assert candidate(["dog", "racecar", "car"]) == ""
    assert candidate([]) == ""
    assert candidate(["alone"]) == "alone"
    assert candidate(["same", "same"]) == "same"
    assert candidate(["", "abc"]) == ""
    assert candidate(["abc", "ab", "abcd"]) == "ab"
""",
)

_add(
    "medium",
    "rotate_matrix",
    '''
def rotate_matrix(matrix: list) -> list:
    """Return a new matrix (list of lists) rotated 90 degrees clockwise; the input must not be modified.
    The matrix may be rectangular.
    >>> rotate_matrix([[1, 2], [3, 4]])
    [[3, 1], [4, 2]]
    """
''',
    """
    return [list(row) for row in zip(*matrix[::-1])]
""",
    """
def check(candidate):
    assert candidate([[1, 2], [3, 4]]) == [[3, 1], [4, 2]]
    assert candidate([[1]]) == [[1]]
    assert candidate([[1, 2, 3]]) == [[1], [2], [3]]
    assert candidate([[1], [2], [3]]) == [[3, 2, 1]]
    original = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert candidate(original) == [[7, 4, 1], [8, 5, 2], [9, 6, 3]]
    assert original == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
""",
)

_add(
    "medium",
    "group_anagrams",
    '''
def group_anagrams(words: list) -> list:
    """Group words that are anagrams of each other. Each group is sorted alphabetically and the groups are
    sorted by their first word.
    >>> group_anagrams(["eat", "tea", "tan", "ate", "nat", "bat"])
    [['ate', 'eat', 'tea'], ['bat'], ['nat', 'tan']]
    """
''',
    """
    groups = {}
    for word in words:
        groups.setdefault("".join(sorted(word)), []).append(word)
    return sorted(sorted(group) for group in groups.values())
""",
    """
def check(candidate):
    assert candidate(["eat", "tea", "tan", "ate", "nat", "bat"]) == [["ate", "eat", "tea"], ["bat"], ["nat", "tan"]]
    assert candidate([]) == []
    assert candidate([""]) == [[""]]
    assert candidate(["a", "b", "a"]) == [["a", "a"], ["b"]]
    assert candidate(["abc", "cab", "xyz", "zyx", "q"]) == [["abc", "cab"], ["q"], ["xyz", "zyx"]]
""",
)

_add(
    "medium",
    "matrix_spiral",
    '''
def matrix_spiral(matrix: list) -> list:
    """Return the elements of a rectangular matrix in clockwise spiral order starting at the top-left.
    >>> matrix_spiral([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    [1, 2, 3, 6, 9, 8, 7, 4, 5]
    """
''',
    """
    out = []
    rows = [list(r) for r in matrix]
    while rows:
        out.extend(rows.pop(0))
        rows = [list(r) for r in zip(*rows)][::-1]
    return out
""",
    """
def check(candidate):
    assert candidate([]) == []
    assert candidate([[1]]) == [1]
    assert candidate([[1, 2, 3], [4, 5, 6], [7, 8, 9]]) == [1, 2, 3, 6, 9, 8, 7, 4, 5]
    assert candidate([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]) == [1, 2, 3, 4, 8, 12, 11, 10, 9, 5, 6, 7]
    assert candidate([[1], [2], [3]]) == [1, 2, 3]
    assert candidate([[1, 2], [3, 4], [5, 6]]) == [1, 2, 4, 6, 5, 3]
""",
)

_add(
    "medium",
    "parse_duration",
    '''
def parse_duration(text: str) -> int:
    """Convert a duration such as "1h30m", "45s" or "2h5s" (units h, m, s, each at most once, in that order)
    to seconds. Raise ValueError for anything else, including an empty string.
    >>> parse_duration("1h30m")
    5400
    """
''',
    """
    import re
    match = re.fullmatch(r"(?:(\\d+)h)?(?:(\\d+)m)?(?:(\\d+)s)?", text)
    if not text or match is None:
        raise ValueError(f"bad duration: {text!r}")
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds
""",
    """
def check(candidate):
    assert candidate("1h30m") == 5400
    assert candidate("45s") == 45
    assert candidate("2h5s") == 7205
    assert candidate("0s") == 0
    assert candidate("10m") == 600
    assert candidate("1h1m1s") == 3661
    for bad in ("", "5", "1m1h", "1h1h", "abc", "-5s", "1.5h"):
        try:
            candidate(bad)
        except ValueError:
            pass
        else:
            raise AssertionError(f"{bad!r} must raise ValueError")
""",
)

_add(
    "medium",
    "prime_factors",
    '''
def prime_factors(n: int) -> list:
    """Return the prime factors of n (n >= 2) in ascending order, with multiplicity.
    Raise ValueError for n < 2.
    >>> prime_factors(360)
    [2, 2, 2, 3, 3, 5]
    """
''',
    """
    if n < 2:
        raise ValueError("n must be at least 2")
    factors = []
    d = 2
    while d * d <= n:
        while n % d == 0:
            factors.append(d)
            n //= d
        d += 1
    if n > 1:
        factors.append(n)
    return factors
""",
    """
def check(candidate):
    assert candidate(2) == [2]
    assert candidate(360) == [2, 2, 2, 3, 3, 5]
    assert candidate(97) == [97]
    assert candidate(49) == [7, 7]
    assert candidate(2**20) == [2] * 20
    assert candidate(600851475143) == [71, 839, 1471, 6857]
    assert candidate(1_000_000_007) == [1_000_000_007]
    for bad in (1, 0, -4):
        try:
            candidate(bad)
        except ValueError:
            pass
        else:
            raise AssertionError(f"{bad} must raise ValueError")
""",
)

# ---------------------------------------------------------------- hard
_add(
    "hard",
    "edit_distance",
    '''
def edit_distance(a: str, b: str) -> int:
    """Return the Levenshtein distance between a and b (insertions, deletions, substitutions cost 1).
    >>> edit_distance("kitten", "sitting")
    3
    """
''',
    """
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]
""",
    """
def check(candidate):
    assert candidate("kitten", "sitting") == 3
    assert candidate("", "") == 0
    assert candidate("", "abc") == 3
    assert candidate("abc", "") == 3
    assert candidate("flaw", "lawn") == 2
    assert candidate("same", "same") == 0
    assert candidate("ab", "ba") == 2
    assert candidate("a" * 300, "b" * 300) == 300
""",
)

_add(
    "hard",
    "longest_increasing_subsequence",
    '''
def longest_increasing_subsequence(numbers: list) -> int:
    """Return the length of the longest strictly increasing subsequence of numbers.
    Must handle 100000 numbers quickly.
    >>> longest_increasing_subsequence([10, 9, 2, 5, 3, 7, 101, 18])
    4
    """
''',
    """
    import bisect
    tails = []
    for x in numbers:
        i = bisect.bisect_left(tails, x)
        if i == len(tails):
            tails.append(x)
        else:
            tails[i] = x
    return len(tails)
""",
    """
def check(candidate):
    assert candidate([]) == 0
    assert candidate([5]) == 1
    assert candidate([10, 9, 2, 5, 3, 7, 101, 18]) == 4
    assert candidate([7, 7, 7, 7]) == 1
    assert candidate([1, 2, 3, 4, 5]) == 5
    assert candidate([5, 4, 3, 2, 1]) == 1
    assert candidate([0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15]) == 6
    assert candidate(list(range(100000))) == 100000
    assert candidate([i % 1000 for i in range(100000)]) == 1000
""",
)

_add(
    "hard",
    "evaluate_expression",
    '''
def evaluate_expression(expression: str) -> int:
    """Evaluate an integer arithmetic expression with +, -, *, // (floor division), parentheses, unary minus
    and spaces, with the usual precedence and left associativity. Raise ZeroDivisionError on division by
    zero and ValueError on a malformed expression. Do not use eval.
    >>> evaluate_expression("2 + 3 * (4 - 1)")
    11
    """
''',
    """
    import re
    tokens = re.findall(r"\\d+|//|[-+*()]|\\S", expression)
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else None

    def take():
        nonlocal pos
        token = peek()
        if token is None:
            raise ValueError("unexpected end")
        pos += 1
        return token

    def expr():
        value = term()
        while peek() in ("+", "-"):
            value = value + term() if take() == "+" else value - term()
        return value

    def term():
        value = factor()
        while peek() in ("*", "//"):
            op = take()
            right = factor()
            value = value * right if op == "*" else value // right
        return value

    def factor():
        token = take()
        if token == "-":
            return -factor()
        if token == "(":
            value = expr()
            if take() != ")":
                raise ValueError("missing )")
            return value
        if token.isdigit():
            return int(token)
        raise ValueError(f"unexpected {token!r}")

    result = expr()
    if pos != len(tokens):
        raise ValueError("trailing tokens")
    return result
""",
    """
def check(candidate):
    assert candidate("1") == 1
    assert candidate("2 + 3 * (4 - 1)") == 11
    assert candidate("10 - 4 - 3") == 3
    assert candidate("2 * 3 + 4 * 5") == 26
    assert candidate("-(3 + 4) * 2") == -14
    assert candidate("7 // 2") == 3
    assert candidate("-7 // 2") == -4
    assert candidate("100 // 10 // 5") == 2
    assert candidate("((((5))))") == 5
    assert candidate("2 - -3") == 5
    assert candidate("123456789 * 987654321") == 121932631112635269
    try:
        candidate("1 // 0")
    except ZeroDivisionError:
        pass
    else:
        raise AssertionError("division by zero must raise ZeroDivisionError")
    for bad in ("", "1 +", "(1 + 2", "1 2", "2 ** 3", "abc"):
        try:
            candidate(bad)
        except ValueError:
            pass
        else:
            raise AssertionError(f"{bad!r} must raise ValueError")
""",
)

_add(
    "hard",
    "knapsack",
    '''
def knapsack(items: list, capacity: int) -> int:
    """0/1 knapsack: items is a list of (weight, value) pairs with positive integer weights. Return the largest
    total value of a subset whose total weight is at most capacity.
    >>> knapsack([(1, 1), (3, 4), (4, 5), (5, 7)], 7)
    9
    """
''',
    """
    best = [0] * (capacity + 1)
    for weight, value in items:
        for c in range(capacity, weight - 1, -1):
            best[c] = max(best[c], best[c - weight] + value)
    return best[capacity] if capacity >= 0 else 0
""",
    """
def check(candidate):
    assert candidate([(1, 1), (3, 4), (4, 5), (5, 7)], 7) == 9
    assert candidate([], 10) == 0
    assert candidate([(5, 10)], 4) == 0
    assert candidate([(5, 10)], 5) == 10
    assert candidate([(2, 3), (2, 3), (2, 3)], 4) == 6
    assert candidate([(10, 60), (20, 100), (30, 120)], 50) == 220
    assert candidate([(1, 1)] * 100, 1000) == 100
    assert candidate([(w, w * 2 + 1) for w in range(1, 101)], 1000) == 2044
""",
)

_add(
    "hard",
    "coin_change",
    '''
def coin_change(coins: list, amount: int) -> int:
    """Return the fewest coins (unlimited supply of each denomination) that add up to amount, or -1 if
    impossible. coin_change(coins, 0) == 0.
    >>> coin_change([1, 2, 5], 11)
    3
    """
''',
    """
    best = [0] + [amount + 1] * amount
    for a in range(1, amount + 1):
        for coin in coins:
            if coin <= a and best[a - coin] + 1 < best[a]:
                best[a] = best[a - coin] + 1
    return best[amount] if best[amount] <= amount else -1
""",
    """
def check(candidate):
    assert candidate([1, 2, 5], 11) == 3
    assert candidate([2], 3) == -1
    assert candidate([1], 0) == 0
    assert candidate([], 0) == 0
    assert candidate([], 7) == -1
    assert candidate([1, 3, 4], 6) == 2
    assert candidate([186, 419, 83, 408], 6249) == 20
    assert candidate([5, 7], 1) == -1
    assert candidate([7, 5], 24) == 4
""",
)

_add(
    "hard",
    "lcs",
    '''
def lcs(a: str, b: str) -> str:
    """Return a longest common subsequence of a and b. When several exist, return the one that is smallest in
    alphabetical (lexicographic) order.
    >>> lcs("ABCBDAB", "BDCABA")
    'BCAB'
    """
''',
    """
    from functools import lru_cache
    import sys
    sys.setrecursionlimit(10000)
    n, m = len(a), len(b)
    length = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            if a[i] == b[j]:
                length[i][j] = length[i + 1][j + 1] + 1
            else:
                length[i][j] = max(length[i + 1][j], length[i][j + 1])

    @lru_cache(maxsize=None)
    def best(i, j):
        if length[i][j] == 0:
            return ""
        for ch in sorted(set(a[i:]) & set(b[j:])):
            ii, jj = a.find(ch, i), b.find(ch, j)
            if length[ii + 1][jj + 1] + 1 == length[i][j]:
                return ch + best(ii + 1, jj + 1)
        return ""

    return best(0, 0)
""",
    """
def check(candidate):
    assert candidate("ABCBDAB", "BDCABA") == "BCAB"
    assert candidate("", "abc") == ""
    assert candidate("abc", "def") == ""
    assert candidate("abc", "abc") == "abc"
    assert candidate("ab", "ba") == "a"
    assert candidate("AGGTAB", "GXTXAYB") == "GTAB"
    assert candidate("zyxabc", "abczyx") == "abc"
    assert len(candidate("ab" * 100, "ba" * 100)) == 199
""",
)

_add(
    "hard",
    "n_queens",
    '''
def n_queens(n: int) -> int:
    """Return the number of ways to place n non-attacking queens on an n x n board (n_queens(0) == 1).
    >>> n_queens(8)
    92
    """
''',
    """
    def place(row, cols, diag1, diag2):
        if row == n:
            return 1
        total = 0
        for col in range(n):
            if col in cols or row - col in diag1 or row + col in diag2:
                continue
            total += place(row + 1, cols | {col}, diag1 | {row - col}, diag2 | {row + col})
        return total

    return place(0, frozenset(), frozenset(), frozenset())
""",
    """
def check(candidate):
    assert candidate(0) == 1
    assert candidate(1) == 1
    assert candidate(2) == 0
    assert candidate(3) == 0
    assert candidate(4) == 2
    assert candidate(5) == 10
    assert candidate(6) == 4
    assert candidate(8) == 92
""",
)

_add(
    "hard",
    "topological_order",
    '''
def topological_order(graph: dict) -> list:
    """graph maps each node (a string) to the nodes it must come before. Return an ordering of all nodes
    (including those only mentioned as targets) in which every edge goes forward, choosing the
    alphabetically smallest available node at each step. Raise ValueError if there is a cycle.
    >>> topological_order({"b": ["a"], "c": ["a"]})
    ['b', 'c', 'a']
    """
''',
    """
    import heapq
    nodes = set(graph)
    for targets in graph.values():
        nodes.update(targets)
    indegree = {node: 0 for node in nodes}
    for targets in graph.values():
        for target in targets:
            indegree[target] += 1
    ready = [node for node in nodes if indegree[node] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        node = heapq.heappop(ready)
        order.append(node)
        for target in graph.get(node, []):
            indegree[target] -= 1
            if indegree[target] == 0:
                heapq.heappush(ready, target)
    if len(order) != len(nodes):
        raise ValueError("cycle")
    return order
""",
    """
def check(candidate):
    assert candidate({}) == []
    assert candidate({"b": ["a"], "c": ["a"]}) == ["b", "c", "a"]
    assert candidate({"a": []}) == ["a"]
    assert candidate({"shirt": ["tie"], "tie": ["jacket"], "socks": ["shoes"], "pants": ["shoes"]}) == [
        "pants", "shirt", "socks", "shoes", "tie", "jacket"]
    assert candidate({"z": [], "y": [], "x": []}) == ["x", "y", "z"]
    for cyclic in ({"a": ["b"], "b": ["a"]}, {"a": ["a"]}, {"a": ["b"], "b": ["c"], "c": ["a"], "d": []}):
        try:
            candidate(cyclic)
        except ValueError:
            pass
        else:
            raise AssertionError("a cycle must raise ValueError")
""",
)

_add(
    "hard",
    "shortest_path",
    '''
def shortest_path(edges: list, start: str, goal: str) -> int:
    """edges is a list of (u, v, weight) undirected edges with non-negative weights. Return the length of the
    shortest path from start to goal, 0 if start == goal, or -1 if goal cannot be reached.
    >>> shortest_path([("a", "b", 1), ("b", "c", 2), ("a", "c", 5)], "a", "c")
    3
    """
''',
    """
    import heapq
    adjacency = {}
    for u, v, w in edges:
        adjacency.setdefault(u, []).append((v, w))
        adjacency.setdefault(v, []).append((u, w))
    dist = {start: 0}
    queue = [(0, start)]
    while queue:
        d, node = heapq.heappop(queue)
        if node == goal:
            return d
        if d > dist.get(node, float("inf")):
            continue
        for nxt, w in adjacency.get(node, []):
            nd = d + w
            if nd < dist.get(nxt, float("inf")):
                dist[nxt] = nd
                heapq.heappush(queue, (nd, nxt))
    return -1
""",
    """
def check(candidate):
    assert candidate([("a", "b", 1), ("b", "c", 2), ("a", "c", 5)], "a", "c") == 3
    assert candidate([], "a", "a") == 0
    assert candidate([("a", "b", 1)], "a", "c") == -1
    assert candidate([("a", "b", 0), ("b", "c", 0)], "c", "a") == 0
    assert candidate([("a", "b", 4), ("a", "c", 1), ("c", "b", 1), ("b", "d", 1)], "a", "d") == 3
    chain = [(str(i), str(i + 1), 1) for i in range(5000)]
    assert candidate(chain, "0", "5000") == 5000
    assert candidate(chain + [("0", "5000", 7)], "5000", "0") == 7
""",
)

_add(
    "hard",
    "word_break",
    '''
def word_break(text: str, words: list) -> list:
    """Return every way to split text into a sequence of dictionary words, each as the words joined by
    single spaces, sorted alphabetically. An empty text has one split: the empty string.
    >>> word_break("catsanddog", ["cat", "cats", "and", "sand", "dog"])
    ['cat sand dog', 'cats and dog']
    """
''',
    """
    from functools import lru_cache
    vocabulary = set(words)

    @lru_cache(maxsize=None)
    def splits(start):
        if start == len(text):
            return [[]]
        out = []
        for end in range(start + 1, len(text) + 1):
            if text[start:end] in vocabulary:
                out.extend([text[start:end]] + rest for rest in splits(end))
        return out

    return sorted(" ".join(parts) for parts in splits(0))
""",
    """
def check(candidate):
    assert candidate("catsanddog", ["cat", "cats", "and", "sand", "dog"]) == ["cat sand dog", "cats and dog"]
    assert candidate("", ["a"]) == [""]
    assert candidate("abc", []) == []
    assert candidate("aaa", ["a", "aa"]) == ["a a a", "a aa", "aa a"]
    assert candidate("pineapplepenapple", ["apple", "pen", "applepen", "pine", "pineapple"]) == [
        "pine apple pen apple", "pine applepen apple", "pineapple pen apple"]
    assert candidate("a" * 60 + "b", ["a", "aa", "aaa"]) == []
""",
)

_add(
    "hard",
    "next_permutation",
    '''
def next_permutation(items: list) -> list:
    """Return the next lexicographic permutation of items as a new list; after the last permutation wrap
    around to the first (sorted ascending). The input must not be modified. Items may repeat.
    >>> next_permutation([1, 2, 3])
    [1, 3, 2]
    """
''',
    """
    result = list(items)
    i = len(result) - 2
    while i >= 0 and result[i] >= result[i + 1]:
        i -= 1
    if i < 0:
        return sorted(result)
    j = len(result) - 1
    while result[j] <= result[i]:
        j -= 1
    result[i], result[j] = result[j], result[i]
    result[i + 1 :] = reversed(result[i + 1 :])
    return result
""",
    """
def check(candidate):
    assert candidate([1, 2, 3]) == [1, 3, 2]
    assert candidate([3, 2, 1]) == [1, 2, 3]
    assert candidate([1, 1, 5]) == [1, 5, 1]
    assert candidate([1, 5, 1]) == [5, 1, 1]
    assert candidate([]) == []
    assert candidate([7]) == [7]
    assert candidate([2, 2]) == [2, 2]
    original = [1, 3, 2]
    assert candidate(original) == [2, 1, 3]
    assert original == [1, 3, 2]
    seen = [[1, 2, 2, 3]]
    for _ in range(11):
        seen.append(candidate(seen[-1]))
    assert len({tuple(p) for p in seen}) == 12 and candidate(seen[-1]) == [1, 2, 2, 3]
""",
)

_add(
    "hard",
    "sudoku_valid",
    '''
def sudoku_valid(grid: list) -> bool:
    """grid is a 9x9 list of lists with digits 1-9 and 0 for empty cells. Return True if no row, column or
    3x3 box contains a repeated digit (empty cells do not count).
    >>> sudoku_valid([[0] * 9 for _ in range(9)])
    True
    """
''',
    """
    for i in range(9):
        row = [v for v in grid[i] if v]
        col = [grid[r][i] for r in range(9) if grid[r][i]]
        box = [grid[3 * (i // 3) + r][3 * (i % 3) + c] for r in range(3) for c in range(3)]
        box = [v for v in box if v]
        for group in (row, col, box):
            if len(group) != len(set(group)):
                return False
    return True
""",
    """
def check(candidate):
    empty = [[0] * 9 for _ in range(9)]
    assert candidate(empty) is True
    solved = [[(r * 3 + r // 3 + c) % 9 + 1 for c in range(9)] for r in range(9)]
    assert candidate(solved) is True
    bad_row = [row[:] for row in empty]
    bad_row[4][0] = bad_row[4][8] = 5
    assert candidate(bad_row) is False
    bad_col = [row[:] for row in empty]
    bad_col[0][7] = bad_col[8][7] = 9
    assert candidate(bad_col) is False
    bad_box = [row[:] for row in empty]
    bad_box[6][6] = bad_box[8][8] = 1
    assert candidate(bad_box) is False
    ok_diag = [row[:] for row in empty]
    ok_diag[0][0] = ok_diag[4][4] = 1
    assert candidate(ok_diag) is True
    broken = [row[:] for row in solved]
    broken[0][0], broken[0][1] = broken[0][1], broken[0][0]
    assert candidate(broken) is False
""",
)

_add(
    "hard",
    "min_window",
    '''
def min_window(text: str, chars: str) -> str:
    """Return the shortest substring of text containing every character of chars (with multiplicity), or ""
    if none. If several have the same length, return the leftmost. chars == "" gives "".
    >>> min_window("ADOBECODEBANC", "ABC")
    'BANC'
    """
''',
    """
    from collections import Counter
    if not chars:
        return ""
    need = Counter(chars)
    missing = len(chars)
    best = (0, float("inf"))
    left = 0
    for right, ch in enumerate(text, 1):
        if need[ch] > 0:
            missing -= 1
        need[ch] -= 1
        if missing == 0:
            while need[text[left]] < 0:
                need[text[left]] += 1
                left += 1
            if right - left < best[1] - best[0]:
                best = (left, right)
            need[text[left]] += 1
            missing += 1
            left += 1
    return "" if best[1] == float("inf") else text[best[0] : best[1]]
""",
    """
def check(candidate):
    assert candidate("ADOBECODEBANC", "ABC") == "BANC"
    assert candidate("a", "a") == "a"
    assert candidate("a", "aa") == ""
    assert candidate("aa", "aa") == "aa"
    assert candidate("abc", "") == ""
    assert candidate("", "a") == ""
    assert candidate("abcabc", "ca") == "ca"
    assert candidate("xaxbxcxab", "ab") == "ab"
    assert candidate("ab" * 5000 + "c", "ca") == "abc"
""",
)

_add(
    "hard",
    "interval_scheduling",
    '''
def interval_scheduling(meetings: list) -> int:
    """meetings is a list of (start, end) pairs with start < end. Return the minimum number of rooms needed so
    that no two meetings in the same room overlap; a meeting ending at t and one starting at t can share.
    >>> interval_scheduling([(0, 30), (5, 10), (15, 20)])
    2
    """
''',
    """
    events = []
    for start, end in meetings:
        events.append((start, 1))
        events.append((end, -1))
    rooms = best = 0
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):
        rooms += delta
        best = max(best, rooms)
    return best
""",
    """
def check(candidate):
    assert candidate([]) == 0
    assert candidate([(0, 30), (5, 10), (15, 20)]) == 2
    assert candidate([(1, 2), (2, 3), (3, 4)]) == 1
    assert candidate([(1, 5), (1, 5), (1, 5)]) == 3
    assert candidate([(7, 10), (2, 4)]) == 1
    assert candidate([(1, 10), (2, 3), (4, 5), (6, 7), (2, 9)]) == 3
    assert candidate([(i, i + 2) for i in range(10000)]) == 2
""",
)


def records() -> list[dict]:
    """The suite as HumanEval records with our ``tier`` field."""
    out = []
    for number, (tier, name, prompt, solution, test) in enumerate(PROBLEMS):
        out.append(
            {
                "task_id": f"ia_basic/{number}",
                "prompt": prompt,
                "entry_point": name,
                "canonical_solution": solution + "\n",
                "test": test + "\n",
                "tier": tier,
            }
        )
    return out


def write(path: Path | None = None) -> Path:
    """Regenerate ia_basic.jsonl next to this file."""
    from core.benchmark.problems import write_jsonl

    return write_jsonl(path or Path(__file__).with_name("ia_basic.jsonl"), records())


if __name__ == "__main__":
    print(write())
