"""How the OpenAI API's requests reach the engine (options, messages, response_format) and how the ones it
cannot serve are refused: OpenAI's error shape and statuses, through the real server and the `openai` client."""

from __future__ import annotations

import base64

import httpx
import openai
import pytest

from core.embedded.scripted import scripted_model

USER = [{"role": "user", "content": "hi"}]
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n fake pixels").decode()


@pytest.fixture
def client(scripted_server):
    with openai.OpenAI(base_url=scripted_server.url + "/v1", api_key="unused", max_retries=0) as made:
        yield made


def refused(answer: httpx.Response, status: int, param: str | None, code: str | None) -> str:
    """Check OpenAI's error shape; returns the message."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    error = answer.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == ("server_error" if status >= 500 else "invalid_request_error")
    assert (error["param"], error["code"]) == (param, code)
    assert error["message"]
    return error["message"]


def chat(url: str, **body) -> httpx.Response:
    return httpx.post(url + "/v1/chat/completions", json={"model": "smollm2:135m", "messages": USER, **body})


# --- options ------------------------------------------------------------------------------------------------


def test_sampling_defaults_are_openais_as_ollama_maps_them(scripted_server, client):
    client.chat.completions.create(model="smollm2:135m", messages=USER)
    assert scripted_server.engine.last_generation.options == {"temperature": 1.0, "top_p": 1.0}


def test_every_option_is_mapped_to_the_engines(scripted_server, client):
    client.chat.completions.create(
        model="smollm2:135m",
        messages=USER,
        temperature=0.2,
        top_p=0.5,
        max_tokens=9,
        seed=42,
        stop="END",
        frequency_penalty=0.5,
        presence_penalty=-0.5,
        extra_body={"top_k": 7, "min_p": 0.1, "typical_p": 0.9, "repeat_penalty": 1.2},
    )
    assert scripted_server.engine.last_generation.options == {
        "temperature": 0.2,
        "top_p": 0.5,
        "num_predict": 9,
        "seed": 42,
        "stop": ["END"],
        "frequency_penalty": 0.5,
        "presence_penalty": -0.5,
        "top_k": 7,
        "min_p": 0.1,
        "typical_p": 0.9,
        "repeat_penalty": 1.2,
    }
    client.completions.create(model="gemma3:270m", prompt="p", stop=["a", "b"], max_tokens=3, temperature=0)
    options = scripted_server.engine.last_generation.options
    assert options["stop"] == ["a", "b"] and options["num_predict"] == 3 and options["temperature"] == 0


def test_max_completion_tokens_wins_over_max_tokens(scripted_server, client):
    client.chat.completions.create(
        model="smollm2:135m", messages=USER, max_tokens=50, max_completion_tokens=5
    )
    assert scripted_server.engine.last_generation.options["num_predict"] == 5


@pytest.mark.parametrize(
    ("response_format", "expected"),
    [
        ({"type": "text"}, None),
        ({"type": "json_object"}, "json"),
        (
            {
                "type": "json_schema",
                "json_schema": {"name": "p", "schema": {"type": "object"}, "strict": True},
            },
            {"type": "object"},
        ),
        ({"type": "json_schema", "json_schema": {"name": "any"}}, "json"),
    ],
)
def test_response_format_becomes_the_format_the_grammar_enforces(scripted_server, response_format, expected):
    assert chat(scripted_server.url, response_format=response_format).status_code == 200
    assert scripted_server.engine.last_generation.format == expected
    answer = httpx.post(
        scripted_server.url + "/v1/completions",
        json={"model": "gemma3:270m", "prompt": "p", "response_format": response_format},
    )
    assert answer.status_code == 200 and scripted_server.engine.last_generation.format == expected


def test_parsed_output_through_the_client_helper(scripted_server, client):
    """`client.chat.completions.parse` sends a strict json_schema and parses the reply into the model."""
    from pydantic import BaseModel

    class Person(BaseModel):
        name: str
        age: int

    scripted_server.engine.enqueue(['{"name": ', '"Ann", "age": 31}'])
    reply = client.chat.completions.parse(model="smollm2:135m", messages=USER, response_format=Person)
    assert reply.choices[0].message.parsed == Person(name="Ann", age=31)
    schema = scripted_server.engine.last_generation.format
    assert schema["properties"]["age"] == {"title": "Age", "type": "integer"} and schema["required"] == [
        "name",
        "age",
    ]


# --- messages -----------------------------------------------------------------------------------------------


def test_content_parts_and_roles_reach_the_engine(scripted_server):
    messages = [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Look"}, {"type": "text", "text": "closely"}]},
        {"role": "assistant", "content": None, "tool_calls": []},
        {"role": "user", "content": "And?"},
    ]
    assert chat(scripted_server.url, messages=messages).status_code == 200
    assert scripted_server.engine.last_generation.messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Look\nclosely"},
        {"role": "assistant", "content": ""},
        {"role": "user", "content": "And?"},
    ]


def test_image_data_urls_reach_a_vision_model_as_base64(scripted_server, client):
    parts = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
    ]
    client.chat.completions.create(model="vision", messages=[{"role": "user", "content": parts}])
    assert scripted_server.engine.last_generation.messages == [
        {"role": "user", "content": "What is this?", "images": [PNG]}
    ]


@pytest.mark.parametrize(
    ("model", "url", "param", "code", "words"),
    [
        ("smollm2:135m", f"data:image/png;base64,{PNG}", "messages", "unsupported_value", "text-only"),
        ("vision", "https://example.com/cat.png", "messages[0].content[0].image_url", "invalid_image_url", "base64"),
        ("vision", "data:image/png;base64,not base64!", "messages[0].content[0].image_url", "invalid_image_url",
         "base64 data URL"),
    ],
)  # fmt: skip
def test_images_that_cannot_be_served_are_refused(scripted_server, model, url, param, code, words):
    message = {"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}
    answer = chat(scripted_server.url, model=model, messages=[message])
    assert words in refused(answer, 400, param, code)
    assert scripted_server.engine.generations == []


# --- refusals -------------------------------------------------------------------------------------------------


def test_an_unknown_model_is_a_404_model_not_found(scripted_server, client):
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model="gpt-4o", messages=USER)
    assert err.value.status_code == 404 and err.value.code == "model_not_found" and err.value.param == "model"
    assert "gpt-4o" in err.value.message and "smollm2:135m" in err.value.message
    with pytest.raises(openai.NotFoundError):
        client.completions.create(model="gpt-3.5-turbo-instruct", prompt="p")


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b'{"model": "smollm2:135m", "messages": [', "could not parse the JSON body"),
        (b"", "body is empty"),
        (b"[1, 2]", "must be a JSON object, but got an array"),
        (b"\xff\xfe", "could not parse the JSON body"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_400(scripted_server, raw, words):
    for path in ("/v1/chat/completions", "/v1/completions"):
        answer = httpx.post(
            scripted_server.url + path, content=raw, headers={"content-type": "application/json"}
        )
        assert words in refused(answer, 400, None, None)


@pytest.mark.parametrize(
    ("body", "param", "code", "words"),
    [
        ({"model": None}, "model", "missing_required_parameter", "'model'"),
        ({"messages": None}, "messages", "missing_required_parameter", "'messages'"),
        ({"messages": []}, "messages", "empty_array", "empty array"),
        ({"messages": "hi"}, "messages", "invalid_type", "expected an array"),
        ({"messages": ["hi"]}, "messages[0]", "invalid_type", "expected an object"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role", "invalid_value", "'robot'"),
        ({"messages": [{"role": "user"}]}, "messages[0].content", "missing_required_parameter", "content"),
        ({"messages": [{"role": "user", "content": [{"type": "input_audio"}]}]}, "messages[0].content[0]",
         "invalid_value", "input_audio"),
        ({"n": 2}, "n", "unsupported_value", "one choice per request"),
        ({"n": 0}, "n", "invalid_value", ">= 1"),
        ({"temperature": "hot"}, "temperature", "invalid_type", "expected a decimal, but got a string"),
        ({"temperature": 2.5}, "temperature", "invalid_value", "<= 2"),
        ({"top_p": -0.1}, "top_p", "invalid_value", ">= 0"),
        ({"max_tokens": 0}, "max_tokens", "invalid_value", ">= 1"),
        ({"max_tokens": 1.5}, "max_tokens", "invalid_type", "expected an integer"),
        ({"seed": True}, "seed", "invalid_type", "got a boolean"),
        ({"stop": 3}, "stop", "invalid_type", "a string or an array of strings"),
        ({"stop": ["a", 1]}, "stop", "invalid_type", "a string or an array of strings"),
        ({"stream": "yes"}, "stream", "invalid_type", "expected a boolean"),
        ({"stream_options": {"include_usage": True}}, "stream_options", "invalid_value", "only allowed when"),
        ({"response_format": {"type": "yaml"}}, "response_format.type", "invalid_value", "'json_schema'"),
        ({"response_format": {"type": "json_schema"}}, "response_format.json_schema", "missing_required_parameter",
         "json_schema"),
        ({"logprobs": True}, "logprobs", "unsupported_parameter", "logprobs are not supported"),
        ({"top_logprobs": 3}, "top_logprobs", "unsupported_parameter", "logprobs are not supported"),
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools", "unsupported_parameter",
         "does not support tools"),
        ({"reasoning_effort": "high"}, "reasoning_effort", "unsupported_parameter", "does not support thinking"),
        ({"reasoning_effort": "huge"}, "reasoning_effort", "invalid_value", "'huge'"),
    ],
)  # fmt: skip
def test_chat_requests_it_cannot_serve_are_400s_naming_the_parameter(
    scripted_server, body, param, code, words
):
    assert words in refused(chat(scripted_server.url, **body), 400, param, code)
    assert scripted_server.engine.generations == []  # refused before anything ran


def test_n_above_one_is_refused_through_the_client(scripted_server, client):
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="smollm2:135m", messages=USER, n=3)
    assert err.value.param == "n" and "send 3 requests" in err.value.message


def test_tools_with_tool_choice_none_are_not_a_refusal(scripted_server):
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    assert chat(scripted_server.url, tools=tools, tool_choice="none").status_code == 200


def test_a_model_with_tools_accepts_them(scripted_server):
    scripted_server.engine.set_models(scripted_model("tooler", capabilities=("completion", "tools")))
    tools = [{"type": "function", "function": {"name": "f"}}]
    assert chat(scripted_server.url, model="tooler", tools=tools).status_code == 200


@pytest.mark.parametrize(
    ("body", "param", "code", "words"),
    [
        ({"prompt": None}, "prompt", "missing_required_parameter", "'prompt'"),
        ({"prompt": ["a", "b"]}, "prompt", "unsupported_value", "one prompt per request"),
        ({"prompt": [1, 2, 3]}, "prompt", "invalid_type", "token arrays are not supported"),
        ({"suffix": "end"}, "suffix", "unsupported_parameter", "cannot insert"),
        ({"best_of": 2}, "best_of", "unsupported_value", "one choice per request"),
        ({"logprobs": 2}, "logprobs", "unsupported_parameter", "logprobs"),
        ({"echo": "yes"}, "echo", "invalid_type", "expected a boolean"),
    ],
)
def test_completion_requests_it_cannot_serve_are_400s(scripted_server, body, param, code, words):
    answer = httpx.post(
        scripted_server.url + "/v1/completions", json={"model": "gemma3:270m", "prompt": "p", **body}
    )
    assert words in refused(answer, 400, param, code)
    assert scripted_server.engine.generations == []


def test_the_body_is_recorded_as_the_client_sent_it(scripted_server, client):
    client.chat.completions.create(model="smollm2:135m", messages=USER, temperature=0.5)
    sent = scripted_server.engine.bodies("/v1/chat/completions")
    assert sent == [{"model": "smollm2:135m", "messages": USER, "temperature": 0.5}]
