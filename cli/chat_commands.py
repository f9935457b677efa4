"""Chat commands: /copy, /code, /system, /set, /image, /file, /regen, /versions, /stats, /dev, /profile,
/lang."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cli.commands import CommandError, command
from core.i18n import N_, _, format_decimal, format_number, ngettext

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
    count = len(text)
    message = ngettext("Copied {what} ({count} character).", "Copied {what} ({count} characters).", count)
    state.out.print(message.format(what=what, count=format_number(count)))


@command(
    "copy", N_("/copy [N] | /copy code [K]"), N_("copy the last N replies, or code block K of the last reply")
)
def _copy_cmd(state: CliState, arg: str) -> None:
    from core.sav_manager import extract_code_blocks

    replies = _replies(state)
    if not replies:
        raise CommandError(_("There is no reply to copy yet."))
    words = arg.split()
    if words and words[0].lower() == "code":
        blocks = extract_code_blocks(replies[-1].content)
        if not blocks:
            raise CommandError(_("The last reply has no code block."))
        k = _positive(words[1] if len(words) > 1 else "1", "K")
        if k > len(blocks):
            message = ngettext(
                "The last reply has {count} code block; there is no block {k}.",
                "The last reply has {count} code blocks; there is no block {k}.",
                len(blocks),
            )
            raise CommandError(message.format(count=len(blocks), k=k))
        _copy(state, blocks[k - 1].code, _("code block {k} of {count}").format(k=k, count=len(blocks)))
        return
    n = _positive(words[0] if words else "1", "N")
    chosen = replies[-n:]
    label = ngettext("the last reply", "the last {count} replies", len(chosen)).format(count=len(chosen))
    _copy(state, "\n\n".join(m.content for m in chosen), label)


def _positive(raw: str, name: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise CommandError(
            _("{name} must be a whole number from 1 up, not '{raw}'.").format(name=name, raw=raw)
        )
    return int(raw)


@command("code", N_("/code"), N_("list the code files saved from this conversation's replies"))
def _code(state: CliState, arg: str) -> None:
    if state.conv is None:
        state.out.print(_("No conversation yet."))
        return
    files = state.sessions.code_files(state.conv)
    if not files:
        state.out.print(_("No code file saved in this conversation yet."))
        return
    for path in files:
        state.out.print(str(path), markup=False)


@command("system", N_("/system [TEXT | --clear]"), N_("show or set the system prompt of this conversation"))
def _system(state: CliState, arg: str) -> None:
    current = state.conv.system_prompt if state.conv is not None else state.settings.system_prompt
    if not arg:
        shown = _("System prompt: {text}").format(text=current) if current else _("No system prompt.")
        state.out.print(shown, markup=False)
        return
    text = "" if arg == "--clear" else arg
    state.settings.system_prompt = text
    if state.conv is not None:
        state.conv.system_prompt = text
        state.sessions.save(state.conv)
    state.out.print(_("System prompt cleared.") if not text else _("System prompt set."))


@command(
    "set",
    N_("/set KEY VALUE"),
    N_("temperature, top_p, seed, num_ctx, num_predict, context, keep_alive, think, format (json|FILE|off)"),
)
def _set(state: CliState, arg: str) -> None:
    from cli.set_values import SETTABLE, SetValueError, parse_value

    if not arg:
        from rich.table import Table

        options = {**state.settings.options, **(state.conv.options if state.conv else {})}
        table = Table(_("key"), _("value"), _("takes"), box=None, pad_edge=False, header_style="bold")
        for key, s in SETTABLE.items():
            table.add_row(key, _shown(_current(state, key, options), key), _(s.takes))
        state.out.print(table)
        state.out.print(_("Reset one with /set KEY default."))
        return
    key, _sep, raw = arg.partition(" ")
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
    """A /set value as the user types it: default, on/off, or the value (a format: json, schema ..., off).
    These words are what /set takes, so they stay as they are in every language."""
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


@command("image", N_("/image PATH"), N_("attach an image to your next message"))
def _image(state: CliState, arg: str) -> None:
    if not arg:
        if state.pending_images:
            names = ", ".join(str(p) for p in state.pending_images)
            state.out.print(_("Attached: {names}").format(names=names), markup=False)
            return
        raise CommandError(_("Give the path of an image file."))
    from cli.flags import check_image
    from cli.set_values import SetValueError

    try:
        path = check_image(arg)
    except SetValueError as exc:
        raise CommandError(str(exc)) from None
    state.pending_images.append(path)
    state.out.print(
        _("Attached {name}; it goes with your next message.").format(name=path.name), markup=False
    )


@command("file", N_("/file PATH"), N_("attach a text or code file to your next message"))
def _file(state: CliState, arg: str) -> None:
    if not arg:
        if state.pending_files:
            names = ", ".join(f.label for f in state.pending_files)
            state.out.print(_("Attached: {names}").format(names=names), markup=False)
            return
        raise CommandError(_("Give the path of a text or code file."))
    from core.attachments import AttachmentRefused, read_attachment

    try:
        attachment = read_attachment(arg.strip().strip("\"'"))
    except AttachmentRefused as exc:
        raise CommandError(str(exc)) from None
    state.pending_files.append(attachment)
    state.out.print(
        _("Attached {name}; it goes with your next message.").format(name=attachment.label), markup=False
    )


@command(
    "regen", N_("/regen"), N_("answer the last message again (the earlier replies are kept as versions)")
)
def _regen(state: CliState, arg: str) -> None:
    if state.conv is None or not state.conv.messages:
        raise CommandError(_("There is nothing to regenerate yet."))
    turn = state.chat.regenerate(state.conv, model=state.model or None)
    if turn.error is not None and turn.user_message is None:
        state.err.print(str(turn.error), style="red", markup=False)
        return
    state.play(turn)
    reply = turn.message
    if reply is not None and reply.versions and state.conv.messages and state.conv.messages[-1] is reply:
        state.out.print(
            _("Version {n} of {total} of this reply (/versions lists them).").format(
                n=reply.version + 1, total=len(reply.versions) + 1
            ),
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
    "versions",
    N_("/versions [N]"),
    N_("the versions of the last regenerated or edited message; N shows version N"),
)
def _versions(state: CliState, arg: str) -> None:
    from core import versions

    index = _versioned(state)
    if state.conv is None or index is None:
        raise CommandError(_("No message here has other versions yet (/regen makes one)."))
    head = state.conv.messages[index]
    total, what = versions.count(head), _("reply") if head.role == "assistant" else _("message")
    if not arg:
        current = head.version
        alternatives = versions.alternatives(state.conv, index)
        state.out.print(
            _("Message {n} ({what}) has {total} versions:").format(n=index + 1, what=what, total=total),
            markup=False,
        )
        for n, tail in enumerate(alternatives, start=1):
            mark = "*" if n == current + 1 else " "
            after = _("  (+{count} after it)").format(count=len(tail) - 1) if len(tail) > 1 else ""
            preview = _preview(tail[0].content) or _("(empty)")
            state.out.print(f"{mark} {n}. {preview}{after}", markup=False)
        state.out.print(_("/versions N shows version N (* = shown, and sent as context)."), markup=False)
        return
    if not arg.isdigit() or not 1 <= int(arg) <= total:
        raise CommandError(_("Give a version number from 1 to {total}.").format(total=total))
    from core.errors import IAError

    try:
        state.sessions.switch_version(state.conv, index, int(arg) - 1)
    except IAError as exc:
        raise CommandError(str(exc)) from None
    state.out.print(
        _("Version {n} of {total} of message {index} ({what}):").format(
            n=arg, total=total, index=index + 1, what=what
        ),
        markup=False,
    )
    for msg in state.conv.messages[index:]:
        who = _("You") if msg.role == "user" else _("Assistant") if msg.role == "assistant" else _("System")
        state.out.print(_("{who}: {text}").format(who=who, text=msg.content), markup=False)


@command("stats", N_("/stats"), N_("timings and token counts of the last reply"))
def _stats(state: CliState, arg: str) -> None:
    from cli.render import format_stats

    turn = state.last_turn
    if turn is None or turn.stats is None:
        message = next((m for m in reversed(_replies(state)) if m.stats), None)
        if message is None:
            state.out.print(_("No finished reply yet."))
            return
        s = message.stats or {}
        parts = [
            _("model {name}").format(name=message.model),
            _("total {seconds} s").format(seconds=format_decimal(s.get("total_s") or 0, 2)),
            ngettext("{count} token", "{count} tokens", s.get("eval_count") or 0).format(
                count=format_number(s.get("eval_count") or 0)
            ),
            _("{rate} tok/s").format(rate=format_decimal(s.get("gen_tps") or 0, 1)),
        ]
        state.out.print(" · ".join(parts), markup=False)
        return
    model = _("model {name}").format(name=turn.model)
    state.out.print(f"{model} · {format_stats(turn.stats)}", markup=False)
    if state.conv is not None:
        count = len(state.conv.messages)
        message = ngettext(
            "conversation: {count} message in {slug}", "conversation: {count} messages in {slug}", count
        )
        state.out.print(message.format(count=format_number(count), slug=state.conv.slug), markup=False)


@command("dev", N_("/dev on|off"), N_("DEV mode: timings after each reply, every request logged in data/"))
def _dev(state: CliState, arg: str) -> None:
    word = arg.lower()
    if word not in ("on", "off", ""):
        raise CommandError(_("Say on or off, not '{word}'.").format(word=arg))
    if word:
        state.settings.dev_mode = word == "on"
    where = state.settings.data_dir / "dev_responses.jsonl"
    if state.settings.dev_mode:
        state.out.print(
            _("DEV mode on: timings after each reply; requests logged in {path}").format(path=where),
            markup=False,
        )
    else:
        state.out.print(_("DEV mode off."))


@command(
    "profile",
    N_("/profile [NAME]"),
    N_("apply a saved profile (model, system prompt, options), or list them"),
)
def _profile(state: CliState, arg: str) -> None:
    from cli.app import apply_profile
    from core.profiles import list_profiles

    if not arg:
        names = [p.name for p in list_profiles(state.settings)]
        state.out.print(
            _("Profiles: {names}").format(names=", ".join(names))
            if names
            else _("No profile yet (they live in {folder}).").format(folder=state.settings.profiles_dir),
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
    model = state.model or _("(first installed)")
    state.out.print(_("Profile {name}: model {model}").format(name=name, model=model), markup=False)


@command(
    "lang",
    N_("/lang [en|fr|auto]"),
    N_("show or change the language of the interface (remembered in config.toml; auto: the locale's)"),
)
def _lang(state: CliState, arg: str) -> None:
    import os

    from cli.arguments import LANG_CHOICES
    from config import save_settings
    from core.errors import IAError
    from core.i18n import current_language, language_name, set_language

    word = arg.strip().lower()
    if not word:
        lang = current_language()
        state.out.print(
            _("Language: {name} ({code}); the setting is {setting}.").format(
                name=language_name(lang), code=lang, setting=state.settings.language
            ),
            markup=False,
        )
        return
    if word not in LANG_CHOICES:
        raise CommandError(
            _("There is no interface language '{value}': say en, fr or auto.").format(value=arg)
        )
    lang = set_language(word)
    state.settings.language = word
    try:
        save_settings(state.settings, ["language"])
    except (IAError, OSError) as exc:  # a broken or unwritable config.toml: the change holds for this session
        state.err.print(
            _("Language: {name}, for this session only: it could not be saved ({reason}).").format(
                name=language_name(lang), reason=exc
            ),
            style="yellow",
            markup=False,
        )
        return
    state.out.print(
        _("Language: {name}; remembered in {path}.").format(
            name=language_name(lang), path=state.settings.config_path
        ),
        markup=False,
    )
    env = os.environ.get("IA_LANG", "").strip()
    if env and env.lower() != word:
        state.out.print(
            _("IA_LANG={value} is set: it still chooses the language when the chat starts.").format(
                value=env
            ),
            style="yellow",
            markup=False,
        )
