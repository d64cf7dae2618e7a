"""Field types shared by every surface's request bodies."""

from typing import Annotated

from pydantic import AfterValidator, Field, Strict


def unicode_text(value: str) -> str:
    """JSON can carry lone UTF-16 surrogates ("\\ud83d") that no UTF-8
    encoder, tokenizer or database accepts: refuse them up front."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(
            "must be valid Unicode text (a lone surrogate is not)"
        ) from error
    return value


Text = Annotated[str, Strict(), AfterValidator(unicode_text)]
Temperature = Annotated[float, Field(ge=0, le=2, strict=True, allow_inf_nan=False)]
TopP = Annotated[float, Field(gt=0, le=1, strict=True, allow_inf_nan=False)]
