"""Is this repo part of a notable release? A verdict with reasons users can read.

The rules, in order (the first that applies decides):
1. private/disabled repos, then names that say "not a chat/vision LLM" (guard, embedding,
   reranker, reward model (`-RM`, `GenRM`), classifier, speech, tokenizer, test/dummy,
   LoRA/adapter, checkpoint by step (`step-50K`, `954000steps`, `-ckpt`));
2. a declared task must be in scope (text-generation, image-text-to-text, any-to-any);
3. derivatives are out: any declared base model OUTSIDE the lab's namespaces (aliases
   included) makes the repo a fine-tune, merge, adapter or third-party quantization.
   A base inside the same lab (Instruct from Base, FP8 from BF16) is fine. Untracked
   namespaces with a GGUF/MLX/AWQ… marker and no declared base are reuploads. Then the
   repo must hold weights (a safetensors count or a weight-file tag: safetensors, PyTorch,
   GGUF …): one with tags but no weight file is a tokenizer or a config (with no tags at
   all the Hub told us nothing, so it passes). And every repo needs an in-scope task,
   tier-1 labs included (tokenizers and tools declare none);
4. tracked labs: tier 1 and tier 2 labs - every original in-scope release is notable
   (users follow a lab for its releases, not only the giants; the rules above already
   keep the noise out). Tier 3 (minor) labs need a flagship family name, at least
   `large_params`, or breakout-level traction;
5. untracked namespaces are notable only as breakouts: original, in scope, first published
   at most `breakout_window` ago, and likes or trending score at the breakout thresholds.
   Tracked labs have no age limit: a repo made public long after it was created is still
   a new release (the tracker decides what counts as new).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.radar.facts import RepoFacts, facts_of
from bot.radar.labs import LabRegistry
from bot.radar.models import HubRepo, Lab
from bot.radar.sizes import Size
from bot.radar.vocabulary import count_text, params_text


@dataclass
class PolicyConfig:
    """Tunable thresholds and word lists; defaults follow ATOM's inclusion policy."""

    # Pipeline tags of chat/vision language models; everything else is out of scope.
    in_scope_tasks: tuple[str, ...] = ("text-generation", "image-text-to-text", "any-to-any")
    # (regex searched in the lower-cased repo name, reason shown to users). Words that are
    # also parts of other words (test, asr, tts, prm, lora) must stand alone.
    reject_patterns: tuple[tuple[str, str], ...] = (
        (r"guard|shield|safety", "guard/safety model"),
        (r"embed", "embedding model"),
        (r"rerank", "reranker model"),
        (r"reward|(?<![a-z])(prm|orm|gen-?rm|rm)(?![a-z])", "reward model"),
        (r"classifier|classification", "classifier model"),
        (r"speech|whisper|(?<![a-z])(asr|tts|stt)(?![a-z])", "speech model"),
        (r"tokeni[sz]er", "tokenizer, not a model"),
        (r"(?<![a-z])(test|dummy)(?![a-z])|tiny-random", "test/dummy repo"),
        (r"(?<![a-z])(q?lora|adapters?)(?![a-z])", "LoRA/adapter, not full model weights"),
        # "step-50K", "step1000", "954000steps", "-ckpt": a training run's snapshot. Not
        # "Step-3.5" (StepFun's models) nor "step-prover": a step count has 3+ digits or k.
        (
            r"(?<![a-z])(checkpoints?|intermediate|ckpts?)(?![a-z])"
            r"|(?<![a-z])step[-_]?(\d{3,}|\d+k)(?![a-z0-9.])"
            r"|(?<![a-z0-9.])(\d{3,}|\d+k)[-_]?steps?(?![a-z])",
            "intermediate training checkpoint",
        ),
    )
    # Tags the Hub derives from weight files (.safetensors, .bin, .gguf, .h5, .msgpack …).
    # Paddle's .pdparams have no file tag of their own, so its libraries stand in for one.
    weight_tags: tuple[str, ...] = (
        "safetensors", "pytorch", "gguf", "tf", "jax", "onnx", "mlx", "keras", "tflite",
        "coreml", "openvino", "nemo", "rust", "ctranslate2", "mlc-llm", "llamafile",
        "executorch", "paddlepaddle", "paddlenlp", "paddleocr",
    )  # fmt: skip
    # Name tokens or tags of local-inference formats: from anyone but the lab itself they
    # are reuploads, which ATOM excludes so download counts stay meaningful.
    third_party_format_markers: tuple[str, ...] = (
        "gguf", "mlx", "awq", "gptq", "exl2", "exl3", "bnb", "bitsandbytes", "onnx",
        "openvino", "4bit", "8bit", "3bit", "6bit", "4-bit", "8-bit", "nf4",
    )  # fmt: skip
    # Precision/format tokens that, from the lab itself, mark an official build.
    official_variant_markers: tuple[str, ...] = (
        "fp8", "fp4", "nvfp4", "mxfp4", "bf16", "w4a16", "w8a8", "int4", "int8",
        "gguf", "mlx", "awq", "gptq",
    )  # fmt: skip
    # Breakouts: likes since release or the Hub's trending score (about a week of likes).
    breakout_min_likes: int = 300
    breakout_min_trending: float = 100.0
    breakout_window: timedelta = timedelta(hours=72)
    # A breakout is dated by first sight (labs upload privately weeks before a launch:
    # up to 33 days in ATOM's release-date corrections); a repo created longer ago than
    # this before it trends is an old model trending again, not a launch.
    breakout_max_private_age: timedelta = timedelta(days=45)
    # Tier-3 labs' releases at or above this many total params are notable.
    large_params: float = 30e9


@dataclass(frozen=True)
class Verdict:
    """`candidate`: worth a detail call. Notable verdicts carry reasons, others `rejected`."""

    candidate: bool
    notable: bool
    reasons: tuple[str, ...] = ()
    rejected: str | None = None

    @property
    def explanation(self) -> list[str]:
        """What a card shows: why it is notable, or why it is not."""
        if self.notable:
            return list(self.reasons)
        return [self.rejected] if self.rejected else []


def _rejected(why: str, *, candidate: bool = False) -> Verdict:
    return Verdict(candidate=candidate, notable=False, rejected=why)


def _notable(reasons: list[str]) -> Verdict:
    return Verdict(candidate=True, notable=True, reasons=tuple(reasons))


def _size_reason(size: Size) -> str | None:
    """The size as `Size.words` says it; a lone dense total reads "32B params"."""
    if not (size.total or size.active or size.experts):
        return None
    words = size.words()
    return f"{words} params" if words == params_text(size.total) else words


def _age_text(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    if hours < 48:
        return f"{max(1, math.ceil(hours))} h"
    return f"{hours / 24:.0f} days"


def _derivative_text(outside: dict[str, str | None], reupload_format: bool) -> str:
    """Why a repo with a foreign base model is not an original release, in words."""
    ids = list(outside)
    relations = set(outside.values())
    if "quantized" in relations or reupload_format:
        return f"third-party quantization of {ids[0]}"
    if "merge" in relations or len(ids) > 1:
        shown = " + ".join(ids[:3]) + (" + …" if len(ids) > 3 else "")
        return f"merge of {shown} (derivative)"
    if "adapter" in relations:
        return f"adapter on {ids[0]}, not full model weights"
    if "finetune" in relations:
        return f"derivative of {ids[0]} (fine-tune)"
    return f"derivative of {ids[0]}"


class NotabilityPolicy:
    """Applies the rules in the module docstring to list data (`prefilter`) or details."""

    def __init__(
        self, config: PolicyConfig | None = None, *, registry: LabRegistry | None = None
    ) -> None:
        self.config = config or PolicyConfig()
        # Only flagship patterns are read from the registry; the built-in list has them all.
        self.registry = registry or LabRegistry.builtin()
        self._name_rejects = [
            (re.compile(pattern, re.IGNORECASE), why)
            for pattern, why in self.config.reject_patterns
        ]

    def prefilter(
        self, repo: HubRepo | RepoFacts, lab: Lab | None, *, now: datetime | None = None
    ) -> Verdict:
        """Cheap verdict from list data: name, tags, pipeline tag, `base_model:` tags.

        `candidate` says whether a detail call is worth it; untracked namespaces are
        candidates only when they already look like a breakout. Pass the repo's
        `RepoFacts` when the caller records it too, so its facts are derived once.
        """
        return self._evaluate(facts_of(repo), lab, first_seen=None, now=now, detailed=False)

    def judge(
        self, repo: HubRepo | RepoFacts, lab: Lab | None, *, first_seen: datetime, now: datetime
    ) -> Verdict:
        """Full verdict with detail data (card data, lineage, safetensors size)."""
        return self._evaluate(facts_of(repo), lab, first_seen=first_seen, now=now, detailed=True)

    def name_rejection(self, name: str) -> str | None:
        """Why a repo name alone says "not a chat/vision LLM release", or None."""
        lowered = name.split("/", 1)[-1].lower()
        for pattern, why in self._name_rejects:
            if pattern.search(lowered):
                return why
        return None

    # --------------------------------------------------------------- the rules

    def _evaluate(
        self,
        facts: RepoFacts,
        lab: Lab | None,
        *,
        first_seen: datetime | None,
        now: datetime | None,
        detailed: bool,
    ) -> Verdict:
        repo = facts.repo
        if repo.private:
            return _rejected("private repo")
        if repo.disabled:
            return _rejected("repo disabled on the Hub")
        named = self.name_rejection(repo.name)
        if named is not None:
            return _rejected(named)

        tags = facts.tags
        task = facts.task
        if task is not None and task not in self.config.in_scope_tasks:
            return _rejected(f"task {task} is out of scope")
        task_known = task is not None or bool(
            tags & {"conversational", *self.config.in_scope_tasks}
        )

        tokens = facts.tokens
        format_markers = set(self.config.third_party_format_markers)
        reupload_format = sorted((tokens | tags) & format_markers)
        own = {lab.namespace.lower(), *(a.lower() for a in lab.aliases)} if lab else set()
        own.add(repo.author.lower())
        lineage = facts.lineage
        outside = {m: rel for m, rel in lineage.items() if m.split("/")[0].lower() not in own}
        inside = [m for m in lineage if m not in outside]
        if outside:
            return _rejected(_derivative_text(outside, bool(reupload_format)))
        if lab is None and reupload_format:
            return _rejected(f"third-party {reupload_format[0].upper()} reupload")
        if tags and (repo.safetensors_total or 0) <= 0 and not tags & set(self.config.weight_tags):
            return _rejected(
                "no weights in the repo (no safetensors, PyTorch or GGUF files): "
                "a tokenizer or config, not a model"
            )

        size = facts.size
        if inside:
            original = f"original model (built on the lab's own {inside[0]})"
        else:
            original = "original model, not a derivative"
        if lab is None:
            return self._breakout(repo, task_known, original, size, first_seen, now)
        return self._tracked(repo, lab, tokens, task_known, original, size, detailed)

    def _tracked(
        self,
        repo: HubRepo,
        lab: Lab,
        tokens: frozenset[str],
        task_known: bool,
        original: str,
        size: Size,
        detailed: bool,
    ) -> Verdict:
        config = self.config
        flagship = self.registry.flagship_family(lab.namespace, repo.name)
        place = f" ({lab.country})" if lab.country else ""
        reasons = [f"tracked lab {lab.name}{place}"]
        if lab.tier == 1:
            reasons.append("tier-1 lab")
        reasons.append(original)
        if flagship:
            reasons.append(f"flagship family {flagship}")
        size_reason = _size_reason(size)
        if size_reason:
            reasons.append(size_reason)
        official = [m for m in config.official_variant_markers if m in tokens]
        if official:
            reasons.append(f"official {official[0].upper()} build by the lab")

        if not task_known:
            # Every lab, tier 1 included: a tokenizer or tool repo declares no task. A
            # detail call may reveal the task (card data), so stay a candidate until then.
            return _rejected("no pipeline task declared yet", candidate=not detailed)
        if lab.tier <= 2:
            return _notable(reasons)

        # An "8x22B" name without a total: each expert's size is a floor for the total.
        biggest = max(size.total or 0, size.active or 0, size.expert_params or 0)
        likes = repo.likes or 0
        trending = repo.trending_score or 0.0
        if biggest >= config.large_params:
            reasons.append(f"large model (≥ {params_text(config.large_params)} params)")
        elif likes >= config.breakout_min_likes or trending >= config.breakout_min_trending:
            reasons.append(f"traction: {count_text(likes)} likes")
        elif not flagship:
            return _rejected(
                f"minor lab {lab.name} (tier 3): not a flagship family, under "
                f"{params_text(config.large_params)} params and not trending",
                candidate=not detailed,
            )
        return _notable(reasons)

    def _breakout(
        self,
        repo: HubRepo,
        task_known: bool,
        original: str,
        size: Size,
        first_seen: datetime | None,
        now: datetime | None,
    ) -> Verdict:
        config = self.config
        if not task_known:
            return _rejected(f"untracked namespace {repo.author} and no pipeline task declared")
        # Dated by first sight, not `createdAt`: a launch created privately weeks before it
        # turned public is still new when the radar first sees it.
        age = now - first_seen if now is not None and first_seen is not None else None
        created = repo.created_at
        if now is not None and created is not None and now - created > (
            config.breakout_window + config.breakout_max_private_age
        ):
            return _rejected(
                f"created {_age_text(now - created)} ago, long before it was first seen: "
                "an old model trending again, not a launch"
            )
        if age is not None and age > config.breakout_window:
            window_hours = config.breakout_window.total_seconds() / 3600
            return _rejected(
                f"first published {_age_text(age)} ago; a breakout must be under "
                f"{window_hours:.0f} h old"
            )
        likes = repo.likes or 0
        trending = repo.trending_score or 0.0
        if likes < config.breakout_min_likes and trending < config.breakout_min_trending:
            return _rejected(
                f"untracked namespace {repo.author} and not trending "
                f"({count_text(likes)} likes, trending score {trending:.0f}; a breakout needs "
                f"{count_text(config.breakout_min_likes)} likes or a score of "
                f"{config.breakout_min_trending:.0f})"
            )
        traction = f"trending: {count_text(likes)} likes"
        if age is not None:
            traction += f" in {_age_text(age)}"
        if trending:
            traction += f", trending score {trending:.0f}"
        reasons = [f"breakout from untracked namespace {repo.author}", original, traction]
        size_reason = _size_reason(size)
        if size_reason:
            reasons.append(size_reason)
        return _notable(reasons)
