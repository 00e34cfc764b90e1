"""Master: the person view (linked records with provenance, attributes, conflicts, links and
history) and person search, both read only through a scope the governance gate issued.
See docs/person_view.md."""

from accord.master.query import SearchQueryError
from accord.master.search import (
    MAX_LIMIT,
    Matched,
    PersonSummary,
    RecordRef,
    SearchHit,
    SearchHits,
    search_persons,
)
from accord.master.view import (
    NOT_FOUND,
    Attribute,
    AttributeSource,
    AttributeValue,
    HistoryEvent,
    LinkView,
    PersonNotFound,
    PersonView,
    Provenance,
    RecordView,
    SourceGroup,
    person_view,
)

__all__ = [
    "MAX_LIMIT", "NOT_FOUND", "Attribute", "AttributeSource", "AttributeValue", "HistoryEvent", "LinkView",
    "Matched", "PersonNotFound", "PersonSummary", "PersonView", "Provenance", "RecordRef", "RecordView",
    "SearchHit", "SearchHits", "SearchQueryError", "SourceGroup", "person_view", "search_persons",
]
