"""The task heads, on mean-pooled document and sentence vectors.

Linear heads: the fine-tuned top layers do the representation work, and small heads keep the saved model small.
"""

from __future__ import annotations

import torch
from torch import nn

from ..taxonomy import ENGAGEMENT_IDS, PLATFORM_TAGS, POLARITIES, SENTIMENTS, SUGGESTION_TARGETS

#: a platform tag's value on one experience (absent = empty in the export)
TAG_VALUES: tuple[str, ...] = ("absent", "positif", "neutre", "négatif")


class Heads(nn.Module):
    def __init__(self, hidden_size: int, n_cues: int = 0, dropout: float = 0.1):
        super().__init__()
        n_eng = len(ENGAGEMENT_IDS)
        self.dropout = nn.Dropout(dropout)
        self.sentiment = nn.Linear(hidden_size, len(SENTIMENTS))
        self.engagement = nn.Linear(hidden_size, n_eng)  # document: does it talk about E_j?
        self.evidence = nn.Linear(hidden_size, n_eng)  # sentence: is this where it does?
        self.polarity = nn.Linear(2 * hidden_size, n_eng * len(POLARITIES))  # [document; evidence sentence]
        self.tags = nn.Linear(hidden_size, len(PLATFORM_TAGS) * len(TAG_VALUES))
        self.suggestion = nn.Linear(hidden_size + n_cues, 1)  # sentence + its French suggestion cues
        self.target = nn.Linear(hidden_size, len(SUGGESTION_TARGETS))  # the engagement a suggestion improves

    def forward(self, docs: torch.Tensor, sentences: torch.Tensor, cues: torch.Tensor | None = None) -> dict:
        """Logits: documents (D, H) -> sentiment (D, 3), engagement (D, 8), tags (D, 5, 4);
        sentences (S, H) -> evidence (S, 8), suggestion (S,), target (S, 9)."""
        d, s = self.dropout(docs), self.dropout(sentences)
        sc = s if cues is None else torch.cat([s, cues], dim=1)
        return {
            "sentiment": self.sentiment(d),
            "engagement": self.engagement(d),
            "tags": self.tags(d).view(len(d), len(PLATFORM_TAGS), len(TAG_VALUES)),
            "evidence": self.evidence(s),
            "suggestion": self.suggestion(sc).squeeze(-1),
            "target": self.target(s),
        }

    def polarity_logits(self, docs: torch.Tensor, evidence: torch.Tensor) -> torch.Tensor:
        """(N, H) document and (N, H) evidence-sentence vectors -> (N, 8, 3) polarity logits per engagement."""
        x = self.dropout(torch.cat([docs, evidence], dim=1))
        return self.polarity(x).view(len(x), len(ENGAGEMENT_IDS), len(POLARITIES))
