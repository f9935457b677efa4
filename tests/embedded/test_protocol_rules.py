"""Pure rules of the embedded backend: keep_alive parsing, option checks, parameter text, prompts, stop hold-back."""

from __future__ import annotations

import math

import pytest

from core.embedded.decoding import Sampling, hold_back
from core.embedded.engine import Done
from core.embedded.prompts import BASE_STOP, base_prompt
from core.embedded.protocol import (
    ProtocolError,
    check_options,
    expires_at,
    final_metrics,
    format_parameters,
    parse_keep_alive,
    parse_think,
)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(None, None), (0, 0.0), ("0", 0.0), (30, 30.0), ("5m", 300.0), ("1h30m", 5400.0), ("1.5s", 1.5),
     ("-1s", -1.0), (-1, -1.0), ("250ms", 0.25)],
)  # fmt: skip
def test_keep_alive_follows_go_durations(value, seconds):
    assert parse_keep_alive(value) == seconds


@pytest.mark.parametrize(
    ("value", "error"),
    [("-1", 'time: missing unit in duration "-1"'), ("10", 'time: missing unit in duration "10"'),
     ("5 minutes", 'time: invalid duration "5 minutes"'), ("m5", 'time: invalid duration "m5"')],
)  # fmt: skip
def test_bad_keep_alive_is_a_400(value, error):
    with pytest.raises(ProtocolError) as err:
        parse_keep_alive(value)
    assert err.value.status == 400 and err.value.message == error


def test_negative_keep_alive_never_expires():
    assert expires_at(-1).year > 2300 and expires_at(math.inf).year > 2300
    assert expires_at(0) < expires_at(None) < expires_at(3600)


def test_think_values():
    assert parse_think(None) is None and parse_think(False) is False and parse_think("high") is True
    with pytest.raises(ProtocolError, match='invalid think value: "maybe"'):
        parse_think("maybe")


def test_options_keep_known_keys_and_refuse_wrong_types():
    clean = check_options({"temperature": 0, "num_predict": 5.0, "stop": "END", "mystery": 1, "seed": None})
    assert clean == {"temperature": 0, "num_predict": 5, "stop": ["END"]}
    for bad, text in [
        ({"num_ctx": "big"}, 'option "num_ctx" must be of type int'),
        ({"use_mmap": 1}, 'option "use_mmap" must be of type bool'),
        ({"top_k": True}, 'option "top_k" must be of type int'),
        ({"stop": [1]}, 'option "stop" must be of type array of strings'),
    ]:
        with pytest.raises(ProtocolError) as err:
            check_options(bad)
        assert err.value.status == 400 and err.value.message == text


def test_parameters_text_uses_go_verb_layout():
    text = format_parameters({"stop": ["<a>", "<b>"], "temperature": 0.7, "num_ctx": 4096})
    assert text.splitlines() == [
        'stop                           "<a>"',
        'stop                           "<b>"',
        "temperature                    0.7",
        "num_ctx                        4096",
    ]


def test_final_metrics_omit_zero_values():
    metrics = final_metrics(Done("stop", 3, 10, 0, 0, 0), 99)
    assert metrics == {"total_duration": 99, "prompt_eval_count": 3, "prompt_eval_duration": 10}


def test_gemma_turn_format_for_base_models():
    prompt = base_prompt(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello."},
            {"role": "user", "content": "Bye"},
        ]
    )
    assert prompt.text == (
        "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n"
        "<start_of_turn>model\nHello.<end_of_turn>\n"
        "<start_of_turn>user\nBye<end_of_turn>\n"
        "<start_of_turn>model\n"
    )
    assert prompt.stop == [BASE_STOP]


def test_hold_back_keeps_only_possible_stop_prefixes():
    assert hold_back("hello <end_of", ["<end_of_turn>"]) == len("<end_of")
    assert hold_back("hello", ["<end_of_turn>"]) == 0
    assert hold_back("a#", ["##", "#!"]) == 1
    assert hold_back("anything", []) == 0


def test_sampling_defaults_are_ollamas():
    sampling = Sampling.from_options({"temperature": 0, "seed": 3, "stop": ["x"]})
    assert (sampling.temperature, sampling.seed, sampling.top_k, sampling.top_p) == (0, 3, 40, 0.9)
    assert sampling.num_predict == -1 and sampling.repeat_penalty == 1.0
