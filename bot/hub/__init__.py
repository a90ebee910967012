"""The Hugging Face Hub adapter: the only place that speaks HTTP to the Hub."""

from bot.hub.client import DETAIL_EXPANDS, LIST_EXPANDS, HubClient, is_valid_repo_id
from bot.hub.errors import (
    BadResponse,
    HubError,
    HubUnavailable,
    RateLimited,
    RepoNotFound,
    ServerError,
)
from bot.hub.parse import repo_from_json, repos_from_list

__all__ = [
    "DETAIL_EXPANDS",
    "LIST_EXPANDS",
    "BadResponse",
    "HubClient",
    "HubError",
    "HubUnavailable",
    "RateLimited",
    "RepoNotFound",
    "ServerError",
    "is_valid_repo_id",
    "repo_from_json",
    "repos_from_list",
]
