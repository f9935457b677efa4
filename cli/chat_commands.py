"""Chat commands: /copy, /code, /system, /set, /image, /file, /regen, /versions, /stats, /dev, /profile."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cli.commands import CommandError, command

if TYPE_CHECKING:
    from cli.state import CliState
    from core.conversation import Message

__all__: list[str] = []


def _replies(state: CliState) -> list[Message]:
    if state.conv is None:
        return []
    return [m for m in state.conv.messages if m.role == "assistant" and m.content]


def _copy(state: CliState, text: str, what: str) -> None:
    from cli.clipboard import ClipboardError, copy_text

    try:
        copy_text(text)
    except ClipboardError as exc:
        state.err.print(str(exc), style="red", markup=False)
        return
    state.out.print(f"Copied {what} ({len(text)} characters).")


@command("copy", "/copy [N] | /copy code [K]", "copy the last N replies, or code block K of the last reply")
def _copy_cmd(state: CliState, arg: str) -> None:
    from core.sav_manager import extract_code_blocks

    replies = _replies(state)
    if not replies:
        raise CommandError("There is no reply to copy yet.")
    words = arg.split()
    if words and words[0].lower() == "code":
        blocks = extract_code_blocks(replies[-1].content)
        if not blocks:
            raise CommandError("The last reply has no code block.")
        k = _positive(words[1] if len(words) > 1 else "1", "K")
        if k > len(blocks):
            raise CommandError(f"The last reply has {len(blocks)} code block(s); there is no block {k}.")
        _copy(state, blocks[k - 1].code, f"code block {k} of {len(blocks)}")
        return
    n = _positive(words[0] if words else "1", "N")
    chosen = replies[-n:]
    label = "the last reply" if len(chosen) == 1 else f"the last {len(chosen)} replies"
    _copy(state, "\n\n".join(m.content for m in chosen), label)


def _positive(raw: str, name: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise CommandError(f"{name} must be a whole number from 1 up, not '{raw}'.")
    return int(raw)


@command("code", "/code", "list the code files saved from this conversation's replies")
def _code(state: CliState, arg: str) -> None:
    if state.conv is None:
        state.out.print("No conversation yet.")
        return
    files = state.sessions.code_files(state.conv)
    if not files:
        state.out.print("No code file saved in this conversation yet.")
        return
    for path in files:
        state.out.print(str(path), markup=False)


@command("system", "/system [TEXT | --clear]", "show or set the system prompt of this conversation")
def _system(state: CliState, arg: str) -> None:
    current = state.conv.system_prompt if state.conv is not None else state.settings.system_prompt
    if not arg:
        state.out.print(f"System prompt: {current}" if current else "No system prompt.", markup=False)
        return
    text = "" if arg == "--clear" else arg
    state.settings.system_prompt = text
    if state.conv is not None:
        state.conv.system_prompt = text
        state.sessions.save(state.conv)
    state.out.print("System prompt cleared." if not text else "System prompt set.")


@command(
    "set",
    "/set KEY VALUE",
    "temperature, top_p, seed, num_ctx, num_predict, context, keep_alive, think, format (json|FILE|off)",
)
def _set(state: CliState, arg: str) -> None:
    from cli.set_values import SETTABLE, SetValueError, parse_value

    if not arg:
        from rich.table import Table

        options = {**state.settings.options, **(state.conv.options if state.conv else {})}
        table = Table("key", "value", "takes", box=None, pad_edge=False, header_style="bold")
        for key, s in SETTABLE.items():
            table.add_row(key, _shown(_current(state, key, options), key), s.takes)
        state.out.print(table)
        state.out.print("Reset one with /set KEY default.")
        return
    key, _, raw = arg.partition(" ")
    try:
        settable, value = parse_value(key, raw)
    except SetValueError as exc:
        raise CommandError(str(exc)) from None
    if settable.kind == "option":
        for options in (state.settings.options, state.conv.options if state.conv else None):
            if options is None:
                continue
            if value is None:
                options.pop(settable.key, None)
            else:
                options[settable.key] = value
        if state.conv is not None:
            state.sessions.save(state.conv)
    elif settable.key == "context":
        state.settings.context_exchanges = 5 if value is None else value
    elif settable.key == "keep_alive":
        state.settings.keep_alive = value
    elif settable.key == "format":
        state.chat.format = value
    else:
        state.settings.think = value
    shown = _current(
        state, settable.key, {**state.settings.options, **(state.conv.options if state.conv else {})}
    )
    state.out.print(f"{settable.key} = {_shown(shown, settable.key)}", markup=False)


def _shown(value: object, key: str = "") -> str:
    """A /set value as the user types it: default, on/off, or the value (a format: json, schema ..., off)."""
    if key == "format":
        from cli.set_values import format_label

        return format_label(value)  # type: ignore[arg-type]
    if value is None:
        return "default"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def _current(state: CliState, key: str, options: dict) -> object:
    if key == "context":
        return state.settings.context_exchanges
    if key in ("keep_alive", "think"):
        return getattr(state.settings, key)
    if key == "format":
        return state.chat.format
    return options.get(key)


@command("image", "/image PATH", "attach an image to your next message")
def _image(state: CliState, arg: str) -> None:
    if not arg:
        if state.pending_images:
            state.out.print("Attached: " + ", ".join(str(p) for p in state.pending_images), markup=False)
            return
        raise CommandError("Give the path of an image file.")
    from cli.flags import check_image
    from cli.set_values import SetValueError

    try:
        path = check_image(arg)
    except SetValueError as exc:
        raise CommandError(str(exc)) from None
    state.pending_images.append(path)
    state.out.print(f"Attached {path.name}; it goes with your next message.", markup=False)


@command("file", "/file PATH", "attach a text or code file to your next message")
def _file(state: CliState, arg: str) -> None:
    if not arg:
        if state.pending_files:
            state.out.print("Attached: " + ", ".join(f.label for f in state.pending_files), markup=False)
            return
        raise CommandError("Give the path of a text or code file.")
    from core.attachments import AttachmentRefused, read_attachment

    try:
        attachment = read_attachment(arg.strip().strip("\"'"))
    except AttachmentRefused as exc:
        raise CommandError(str(exc)) from None
    state.pending_files.append(attachment)
    state.out.print(f"Attached {attachment.label}; it goes with your next message.", markup=False)


@command("regen", "/regen", "answer the last message again (the earlier replies are kept as versions)")
def _regen(state: CliState, arg: str) -> None:
    if state.conv is None or not state.conv.messages:
        raise CommandError("There is nothing to regenerate yet.")
    turn = state.chat.regenerate(state.conv, model=state.model or None)
    if turn.error is not None and turn.user_message is None:
        state.err.print(str(turn.error), style="red", markup=False)
        return
    state.play(turn)
    reply = turn.message
    if reply is not None and reply.versions and state.conv.messages and state.conv.messages[-1] is reply:
        state.out.print(
            f"Version {reply.version + 1} of {len(reply.versions) + 1} of this reply (/versions lists them).",
            markup=False,
        )


def _versioned(state: CliState) -> int | None:
    """Index of the last message of the conversation shown that has several versions."""
    messages = state.conv.messages if state.conv is not None else []
    return next((i for i in range(len(messages) - 1, -1, -1) if messages[i].versions), None)


def _preview(text: str, width: int = 70) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


@command(
    "versions", "/versions [N]", "the versions of the last regenerated or edited message; N shows version N"
)
def _versions(state: CliState, arg: str) -> None:
    from core import versions

    index = _versioned(state)
    if state.conv is None or index is None:
        raise CommandError("No message here has other versions yet (/regen makes one).")
    head = state.conv.messages[index]
    total, what = versions.count(head), "reply" if head.role == "assistant" else "message"
    if not arg:
        current = head.version
        alternatives = versions.alternatives(state.conv, index)
        state.out.print(f"Message {index + 1} ({what}) has {total} versions:", markup=False)
        for n, tail in enumerate(alternatives, start=1):
            mark = "*" if n == current + 1 else " "
            after = f"  (+{len(tail) - 1} after it)" if len(tail) > 1 else ""
            state.out.print(f"{mark} {n}. {_preview(tail[0].content) or '(empty)'}{after}", markup=False)
        state.out.print("/versions N shows version N (* = shown, and sent as context).", markup=False)
        return
    if not arg.isdigit() or not 1 <= int(arg) <= total:
        raise CommandError(f"Give a version number from 1 to {total}.")
    from core.errors import IAError

    try:
        state.sessions.switch_version(state.conv, index, int(arg) - 1)
    except IAError as exc:
        raise CommandError(str(exc)) from None
    state.out.print(f"Version {arg} of {total} of message {index + 1} ({what}):", markup=False)
    for msg in state.conv.messages[index:]:
        who = "You" if msg.role == "user" else "Assistant" if msg.role == "assistant" else "System"
        state.out.print(f"{who}: {msg.content}", markup=False)


@command("stats", "/stats", "timings and token counts of the last reply")
def _stats(state: CliState, arg: str) -> None:
    from cli.render import format_stats

    turn = state.last_turn
    if turn is None or turn.stats is None:
        message = next((m for m in reversed(_replies(state)) if m.stats), None)
        if message is None:
            state.out.print("No finished reply yet.")
            return
        s = message.stats or {}
        state.out.print(
            f"model {message.model} · total {s.get('total_s') or 0:.2f} s · "
            f"{s.get('eval_count') or 0} tokens · {s.get('gen_tps') or 0:.1f} tok/s",
            markup=False,
        )
        return
    state.out.print(f"model {turn.model} · {format_stats(turn.stats)}", markup=False)
    if state.conv is not None:
        state.out.print(
            f"conversation: {len(state.conv.messages)} messages in {state.conv.slug}", markup=False
        )


@command("dev", "/dev on|off", "DEV mode: timings after each reply, every request logged in data/")
def _dev(state: CliState, arg: str) -> None:
    word = arg.lower()
    if word not in ("on", "off", ""):
        raise CommandError(f"Say on or off, not '{arg}'.")
    if word:
        state.settings.dev_mode = word == "on"
    where = state.settings.data_dir / "dev_responses.jsonl"
    if state.settings.dev_mode:
        state.out.print(f"DEV mode on: timings after each reply; requests logged in {where}", markup=False)
    else:
        state.out.print("DEV mode off.")


@command("profile", "/profile [NAME]", "apply a saved profile (model, system prompt, options), or list them")
def _profile(state: CliState, arg: str) -> None:
    from cli.app import apply_profile
    from core.profiles import list_profiles

    if not arg:
        names = [p.name for p in list_profiles(state.settings)]
        state.out.print(
            "Profiles: " + ", ".join(names)
            if names
            else f"No profile yet (they live in {state.settings.profiles_dir}).",
            markup=False,
        )
        return
    name = apply_profile(state.settings, arg)
    if state.settings.model:
        state.model = state.settings.model
    if state.conv is not None:
        state.conv.model = state.model or state.conv.model
        state.conv.system_prompt = state.settings.system_prompt
        state.conv.options.update(state.settings.options)
        state.sessions.save(state.conv)
    state.out.print(f"Profile {name}: model {state.model or '(first installed)'}", markup=False)
