"""``POST /nlu/parse``: the engine's understanding of one message, in the JSON shape of Rasa's
``/model/parse``. Public (the mini-program's search box and outside evaluators use it) and cheap."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi

from domain.errors import ValidationFailed
from miniprogram_api.auth import json_body
from miniprogram_api.context import nlu_of
from miniprogram_api.openapi_errors import error_responses

nlu_api = Blueprint("nlu_api", url_prefix="/nlu")

MAX_TEXT_CHARS = 10_000  # longer text is cut here rather than refused: a pasted letter still gets an answer
PARSE_SCHEMA = {
    "application/json": {
        "text": str,
        "intent": {"name": str, "confidence": float},
        "entities": [{"entity": str, "value": str, "start": int, "end": int, "extractor": str}],
        "intent_ranking": [{"name": str, "confidence": float}],
    }
}


@nlu_api.post("/parse")
@openapi.summary("Intent and entities of one Chinese message (Rasa /model/parse shape)")
@openapi.description(
    "Public. Below the confidence threshold the intent is nlu_fallback. Entity values are normalised: "
    "nuisance codes, upper-case identifiers, project codes, and {from, to} ranges for times."
)
@openapi.body({"application/json": {"text": str}}, required=True)
@openapi.response(200, PARSE_SCHEMA)
@error_responses(400)
async def parse(request: Request) -> HTTPResponse:
    body = json_body(request)
    text = body.get("text")
    if not isinstance(text, str):
        raise ValidationFailed("text must be a string", code="invalid_text")
    # Lone surrogates (legal in JSON escapes, not in UTF-8) would break the response: make them '?'.
    text = text[:MAX_TEXT_CHARS].encode("utf-8", "replace").decode("utf-8")
    engine = nlu_of(request)
    result = await engine.parse(text)
    return json(result.to_rasa_json(), ensure_ascii=False)
