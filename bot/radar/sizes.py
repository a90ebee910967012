"""A model's size from what the Hub gives: the safetensors count, or the repo's name.

Names state sizes many ways (235B-A22B, 8x22B, OLMoE-1B-7B, E4B, 1_8b, a "-5T" that counts
training tokens); packed builds (AWQ, NVFP4, MLX …) store several weights per value, so
their count is too low. `size_of` weighs those sources; `Size.words` says the result.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple, Protocol

from bot.radar.models import HubRepo
from bot.radar.vocabulary import size_text

_UNIT = {"k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}
_NUMBER = r"(\d+(?:\.\d+)?)"
_PLAIN_SIZE = re.compile(rf"^{_NUMBER}([mbt])$")  # 8b, 0.6b, 270m, 1t  (k is context length)
_ACTIVE_SIZE = re.compile(rf"^a{_NUMBER}([mbt])$")  # a22b, a2.7b
_EFFECTIVE_SIZE = re.compile(rf"^e{_NUMBER}([mbt])$")  # gemma-3n e4b
_MOE_PRODUCT = re.compile(rf"^(\d+)x{_NUMBER}([mbt])$")  # 8x7b
_EXPERT_COUNT = re.compile(r"^\d+e$")  # llama-4 "17B-16E": the size is then per-token
_NAME_SPLIT = re.compile(r"[-_\s]+")
# InternLM writes 1.8B as "1_8b": an underscore between digits before a unit is a point.
_UNDERSCORE_POINT = re.compile(r"(?<=\d)_(?=\d+(?:\.\d+)?[mbtMBT](?:$|[-_\s]))")
# Size-class words: a model called "mini" or "lite" is never a trillion parameters, so a
# trailing "-5T" in its name counts training tokens (Ling-mini-base-2.0-5T).
_SIZE_CLASS_WORDS = frozenset({"nano", "micro", "tiny", "mini", "small", "lite", "flash", "medium"})

# Name tokens that mark a precision or file format build rather than a different model.
PRECISION_TOKENS: frozenset[str] = frozenset(
    {
        "fp8", "fp4", "nvfp4", "mxfp4", "bf16", "fp16", "fp32", "f16", "f32",
        "int4", "int8", "w4a16", "w8a8", "w4a8", "w8a16", "a16w4",
        "gguf", "mlx", "awq", "gptq", "exl2", "exl3", "bnb", "onnx", "openvino",
        "4bit", "8bit", "3bit", "6bit", "nf4", "dynamic", "quantized", "fp8dynamic",
    }
)  # fmt: skip
# Builds that pack several weights into one stored value (below 8 bits, or MLX's packed
# layout), so their safetensors count is far below the model's size: NVFP4, AWQ, INT4,
# W4A16, MLX, GPTQ, bnb-4bit … Their size comes from the unpacked sibling or the name.
PACKED_TOKENS: frozenset[str] = frozenset(
    {"fp4", "nvfp4", "mxfp4", "int4", "w4a16", "w4a8", "a16w4", "w4a4", "awq", "gptq",
     "4bit", "3bit", "2bit", "nf4", "bnb", "exl2", "exl3", "mlx"}
)  # fmt: skip
# Tags the Hub derives from a quantization config that packs weights.
_PACKED_TAGS = frozenset({"4-bit", "3-bit", "2-bit", "awq", "gptq", "exl2", "mlx"})


class Size(NamedTuple):
    """What is known of a model's size. `experts`×`expert_params` is how a name such as
    Mixtral-8x22B states it: never multiplied (shared layers make the product wrong), only
    worded, and only when no total is known."""

    total: int | None = None
    active: int | None = None
    experts: int | None = None
    expert_params: int | None = None

    def words(self) -> str:
        """This size in the radar's one wording (`vocabulary.size_text`)."""
        return size_text(
            self.total, self.active, experts=self.experts, expert_params=self.expert_params
        )


def name_tokens(name: str) -> list[str]:
    """A repo name (without its namespace) split on dashes, underscores and spaces."""
    return [token for token in _NAME_SPLIT.split(name.split("/", 1)[-1]) if token]


def _amount(number: str, unit: str) -> int:
    return round(float(number) * _UNIT[unit])


def is_size_token(token: str) -> bool:
    """True for tokens that only state a size: 235B, A22B, 8x7B, E4B, 270m, 16E."""
    lowered = token.lower()
    return any(
        pattern.match(lowered)
        for pattern in (_PLAIN_SIZE, _ACTIVE_SIZE, _EFFECTIVE_SIZE, _MOE_PRODUCT, _EXPERT_COUNT)
    )


def is_packed(name: str, tags: Iterable[str] = ()) -> bool:
    """True for a packed-precision build (NVFP4, AWQ, INT4, MLX …), by name or Hub tag."""
    tokens = {token.lower() for token in name_tokens(name)}
    return bool(tokens & PACKED_TOKENS) or any(tag.lower() in _PACKED_TAGS for tag in tags)


def name_size(name: str) -> Size:
    """The size a repo name states, read the way people write model names.

    - "235B-A22B": total and active; "A3B" alone: the active size only.
    - "8x22B": experts × expert size, never multiplied into a total.
    - "OLMoE-1B-7B": two sizes in a row, the smaller first, are active then total.
    - "-5T", "2B-4T", "8b-3t": a trillion count next to another size, or in a model named
      mini/lite/small…, counts training tokens, not parameters ("Ling-1T" is a size).
    - "E4B" (Gemma's "effective" size) counts as the total; in "Llama-4-Scout-17B-16E"
      the 17B is the per-token (active) size, so the total stays unknown.
    - versions (3.1), dates (2507) and context lengths (32k) carry no unit we accept.
    """
    tokens = [t.lower() for t in name_tokens(_UNDERSCORE_POINT.sub(".", name.split("/")[-1]))]
    plain: list[tuple[int, int, str]] = []  # (position, amount, unit)
    active: int | None = None
    product: tuple[int, int] | None = None
    effective: int | None = None
    has_expert_count = False
    for position, token in enumerate(tokens):
        if _EXPERT_COUNT.match(token):
            has_expert_count = True
        elif match := _ACTIVE_SIZE.match(token):
            active = active or _amount(match.group(1), match.group(2))
        elif match := _MOE_PRODUCT.match(token):
            product = product or (int(match.group(1)), _amount(match.group(2), match.group(3)))
        elif match := _EFFECTIVE_SIZE.match(token):
            effective = effective or _amount(match.group(1), match.group(2))
        elif match := _PLAIN_SIZE.match(token):
            plain.append((position, _amount(match.group(1), match.group(2)), match.group(2)))

    small_plain = [entry for entry in plain if entry[2] != "t"]
    if small_plain or product or effective or _SIZE_CLASS_WORDS & set(tokens):
        plain = small_plain  # the trillions are training tokens
    experts, expert_params = product or (None, None)
    total = plain[0][1] if plain else effective
    if len(plain) >= 2 and plain[1][0] == plain[0][0] + 1 and plain[0][1] < plain[1][1]:
        active, total = active or plain[0][1], plain[1][1]  # OLMoE-1B-7B: active first
    if has_expert_count and total is not None and active is None:
        return Size(None, total, experts, expert_params)
    return Size(total, active, experts, expert_params)


def _stem(name: str) -> tuple[str, ...]:
    """A name without its precision/format tokens: what an unpacked sibling is called."""
    return tuple(
        token.lower()
        for token in name_tokens(name)
        if token.lower() not in PRECISION_TOKENS and token.lower() not in PACKED_TOKENS
    )


class _Sized(Protocol):
    id: str
    params_total: int | None


def unpacked_sibling_total(repo_id: str, siblings: Iterable[_Sized]) -> int | None:
    """The exact size of a packed build's unpacked sibling, when the caller knows one.

    A packed build (`Qwen/Qwen3-32B-AWQ`, `acme/Big-NVFP4`) stores several weights per
    value, so its own safetensors count is too low. Its sibling in the same namespace whose
    name is the same without precision/format tokens (`Qwen/Qwen3-32B`, or a `-BF16`
    build) and that is not packed itself has the real count. `siblings` are records the
    caller already holds (e.g. the lab's stored `ModelRecord`s); nothing is fetched.
    Returns None when no such sibling with a known total is among them.
    """
    namespace = repo_id.split("/", 1)[0].lower()
    stem = _stem(repo_id)
    for sibling in siblings:
        if sibling.id.lower() == repo_id.lower() or not sibling.params_total:
            continue
        if sibling.id.split("/", 1)[0].lower() != namespace or is_packed(sibling.id):
            continue
        if _stem(sibling.id) == stem:
            return sibling.params_total
    return None


def size_of(repo: HubRepo, siblings: Iterable[_Sized] = ()) -> Size:
    """The size to show: the exact safetensors count when there is one, else the name.

    A packed build's count is far too low, so there the unpacked sibling's count (when the
    caller passes siblings) wins, then the name; with neither, the size is unknown rather
    than a count off by a factor of four. The active size always comes from the name.
    """
    named = name_size(repo.name)
    counted = repo.safetensors_total if (repo.safetensors_total or 0) > 0 else None
    if is_packed(repo.name, repo.tags):
        counted = unpacked_sibling_total(repo.id, siblings)
    if counted is None:
        return named
    return named._replace(total=counted)
