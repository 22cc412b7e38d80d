"""The limits a server runs under, shared by the HTTP app, the MCP server and Ray Serve."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agentvlm.config import Config

__all__ = ["ServeSettings"]


class ServeSettings(BaseModel):
    """How ``agentvlm serve`` answers: which agent, who may ask, and how much one request may cost.

    Example:
        >>> ServeSettings(api_key="s3cret", max_concurrency=2).max_queue
        16
    """

    model_config = ConfigDict(extra="forbid")

    config: Config = Field(default_factory=Config, description="The agent's models, tools and default graph")
    api_key: str | None = Field(default=None, description="Bearer token every /v1 request must carry (trimmed, as the incoming one is); None: open")
    max_concurrency: int = Field(default=1, ge=1, description="Questions answered at once (one llama.cpp model serializes its calls)")
    max_queue: int = Field(default=16, ge=0, description="Questions waiting for a slot; one more is answered 429")
    timeout_s: float = Field(default=300.0, gt=0, description="Seconds from admission to answer before a 504")
    max_body_bytes: int = Field(default=25 * 2**20, gt=0, description="Largest request body")
    max_image_bytes: int = Field(default=15 * 2**20, gt=0, description="Largest image, after base64 decoding")
    max_images: int = Field(default=4, ge=1, description="Images in one question")
    max_question_chars: int = Field(default=4000, ge=1)
    max_history_turns: int = Field(default=20, ge=0, description="Earlier turns kept from a conversation (the reasoning reads the last three)")
    keep_answers: int = Field(default=128, ge=1, description="Answers whose annotated images stay downloadable")
    trusted_hosts: list[str] = Field(
        default_factory=list,
        description="Host header names answered besides localhost, 127.0.0.1 and [::1] (refused otherwise: DNS rebinding); '*': any",
    )
    cors_origins: list[str] = Field(default_factory=list, description="Web origins other than the server's own that may call it (CORS); none by default")
    base_url: str | None = Field(default=None, description="Absolute base of annotated-image URLs (behind a proxy); None: relative URLs")

    @field_validator("api_key")
    @classmethod
    def _key(cls, key: str | None) -> str | None:
        """An empty key would serve everyone while its owner believes it locked."""
        if key is None:
            return None
        if not key.strip():
            raise ValueError("the API key is empty; give a key, or none to serve without one")
        return key.strip()

    @field_validator("trusted_hosts")
    @classmethod
    def _hosts(cls, hosts: list[str]) -> list[str]:
        return [h.strip().lower() for h in hosts if h.strip()]
