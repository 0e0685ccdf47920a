"""URLs of the review app's JSON endpoints (namespace ``review``)."""

from django.urls import path

from review import api

app_name = "review"

_DOC = "api/docs/<uuid:public_id>/"
_THREAD = _DOC + "threads/<str:thread_id>"

urlpatterns = [
    path(_DOC + "threads", api.threads, name="threads"),
    path(_THREAD, api.thread, name="thread"),
    path(_THREAD + "/messages", api.messages, name="messages"),
    path(_THREAD + "/messages/<int:message_id>", api.message, name="message"),
    path(_THREAD + "/resolve", api.resolve, name="resolve"),
    path(_THREAD + "/reopen", api.reopen, name="reopen"),
    path(_DOC + "people", api.people, name="people"),
    path(_DOC + "authors", api.authors, name="authors"),
    path(_DOC + "suggestions/decide", api.decide, name="decide"),
    path(_DOC + "suggestions/undo", api.undo, name="undo"),
]
