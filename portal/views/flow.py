"""Guided flows: one question per page, answers kept on the server in a draft, sent once.

A flow is a declaration (:class:`Flow`): its steps and the answers each sets, when a step
applies, what a changed answer forgets, where an answer leaves the flow, and the hooks for
what its check page shows and what happens on consent. The functions here serve every flow:
one step view, one way back and forth, one expired-draft page and one check page. The
services say which answer is missing; the flow knows the step that asks for it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import db
from ..forms.base import BaseForm
from ..models import RequestDraft
from ..services import drafts
from ..services.errors import DraftExpired
from . import current_settings

CHECK = "check"


class Answers(Protocol):
    """A flow's typed answers: they know the first answer still missing."""

    def first_missing(self) -> str | None:
        """The first answer still needed, or ``None`` when complete."""


def _always(answers: Any) -> bool:
    return True


@dataclass(frozen=True)
class Forget:
    """Stored answers to drop when ``when(new, before)`` holds for a step's new answers."""

    answers: tuple[str, ...]
    when: Callable[[Mapping[str, Any], Any], bool]


@dataclass(frozen=True)
class Exit:
    """Leave the flow for ``endpoint`` when ``when(new)`` holds, deleting the draft."""

    endpoint: str
    when: Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True)
class Step:
    """One page of a flow: its form, the answers it sets, and whether it applies.

    ``choices`` fills a form's lists (towns, offices, locations), ``form_kwargs`` says how the
    form asks (``needs_address``, ``for_other``), ``derive`` adds answers that follow from the
    new ones, ``forget`` and ``exits`` are the step's rules. A step with its own view (the
    slot list) names its ``endpoint``; the generic step view serves every other one.
    """

    name: str
    form: type[BaseForm]
    fields: tuple[str, ...]
    applies: Callable[[Any], bool] = _always
    choices: Callable[[BaseForm, Any], None] | None = None
    form_kwargs: Callable[[Any], dict[str, Any]] | None = None
    derive: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    forget: tuple[Forget, ...] = ()
    exits: tuple[Exit, ...] = ()
    endpoint: str | None = None

    def __post_init__(self) -> None:
        for rule in self.forget:
            if overlap := set(rule.answers) & set(self.fields):
                raise ValueError(f"step {self.name!r} would forget its own answers {overlap}")


def _nothing_more(answers: Any) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Flow:
    """A guided flow: its steps, its draft's session key, its endpoints and its hooks.

    ``read`` turns a draft's stored answers into the flow's typed answers; ``finished``
    returns what a draft was already turned into (or ``None``); ``finish`` sends or books a
    complete draft after consent; ``summary`` adds what the check page shows besides the
    answers. ``done_key`` is the session key set once finished, so that a second click on
    the check page lands on the confirmation. With ``only_applicable``, a step that does not
    apply to the answers is not shown (its address leads to the check page).
    """

    name: str
    session_key: str
    done_key: str
    templates: str
    steps: tuple[Step, ...]
    read: Callable[[Mapping[str, Any]], Answers]
    check_form: type[BaseForm]
    finished: Callable[[RequestDraft], object | None]
    finish: Callable[[RequestDraft], Response | str]
    summary: Callable[[Any], dict[str, Any]] = _nothing_more
    only_applicable: bool = False
    endpoints: dict[str, str] = field(default_factory=dict)

    def endpoint(self, page: str) -> str:
        """The endpoint of ``start``, ``step``, ``check`` or ``done`` (default: on the blueprint)."""
        return self.endpoints.get(page, f"{self.name}.{page}")

    def step_named(self, name: str) -> Step | None:
        """The step called ``name``, if the flow has one."""
        return next((step for step in self.steps if step.name == name), None)

    def applicable(self, stored: Mapping[str, Any]) -> list[str]:
        """The names of the steps that apply to these stored answers, in order."""
        answers = self.read(stored)
        return [step.name for step in self.steps if step.applies(answers)]

    def next_step(self, current: str, stored: Mapping[str, Any]) -> str:
        """The page after ``current`` for these answers; ``check`` after the last question."""
        names = self.applicable(stored)
        index = names.index(current) if current in names else -1
        return names[index + 1] if index + 1 < len(names) else CHECK

    def previous_step(self, current: str, stored: Mapping[str, Any]) -> str | None:
        """The page before ``current`` (``check`` included), or ``None`` on the first question."""
        names = self.applicable(stored)
        if current == CHECK:
            return names[-1]
        index = names.index(current) if current in names else 0
        return names[index - 1] if index > 0 else None

    def step_for(self, answer: str) -> str:
        """The step that asks for ``answer``."""
        return next(step.name for step in self.steps if answer in step.fields)

    def resume(self, stored: Mapping[str, Any]) -> str:
        """Where to go on: the step of the first missing answer, or ``check``."""
        missing = self.read(stored).first_missing()
        return self.step_for(missing) if missing else CHECK

    def resume_url(self) -> str | None:
        """Where this browser's unfinished draft goes on, or ``None`` without one."""
        with contextlib.suppress(DraftExpired):
            return self.url(self.resume(self.draft().answers))
        return None

    def url(self, name: str, **values: Any) -> str:
        """The address of a step; the check page's takes no ``values``."""
        if name == CHECK:
            return url_for(self.endpoint(CHECK))
        step = self.step_named(name)
        if step is not None and step.endpoint is not None:
            return url_for(step.endpoint, **values)
        return url_for(self.endpoint("step"), name=name, **values)

    def draft(self) -> RequestDraft:
        """The live draft of this browser; :class:`DraftExpired` when there is none."""
        return drafts.load_draft(db.session(), session.get(self.session_key))

    def expired(self) -> Response:
        """Forget a draft that is gone and start again with a kind message."""
        session.pop(self.session_key, None)
        flash(
            _(
                "Ihre Angaben waren zu lange nicht in Gebrauch und wurden gelöscht. Bitte beginnen Sie neu."
            )
        )
        return redirect(url_for(self.endpoint("start")))

    def restart(self, answers: Mapping[str, Any]) -> Response:
        """Throw away any unfinished draft, start one with ``answers`` and go to its first question."""
        with contextlib.suppress(DraftExpired):
            drafts.discard_draft(db.session(), self.draft())
        session[self.session_key] = drafts.start_draft(
            db.session(), current_settings().draft_hours, dict(answers)
        )
        db.commit()
        return redirect(self.url(self.resume(answers)))

    def form_for(self, step: Step, stored: Mapping[str, Any], formdata: Any = None) -> BaseForm:
        """The step's form, filled with the stored answers (or the posted ``formdata``)."""
        answers = self.read(stored)
        data = {name: stored.get(name) for name in step.fields if name in stored}
        kwargs = step.form_kwargs(answers) if step.form_kwargs else {}
        form = step.form(formdata=formdata, data=data, **kwargs)
        if step.choices is not None:
            step.choices(form, answers)
        return form

    def remember(self, draft: RequestDraft, step: Step, new: Mapping[str, Any]) -> None:
        """Store a step's new answers and drop those its rules say no longer apply."""
        before = self.read(draft.answers)
        answers = {**new, **step.derive(new)} if step.derive else dict(new)
        forget = tuple(
            name for rule in step.forget if rule.when(answers, before) for name in rule.answers
        )
        drafts.save_answers(draft, answers, current_settings().draft_hours)
        if forget:
            drafts.forget_answers(draft, forget)

    def after(self, name: str, stored: Mapping[str, Any], changing: bool) -> Response:
        """Where an answered step leads: on, or (when changing an answer) back to the check."""
        if changing:
            return redirect(self.url(self.resume(stored), change="1"))
        return redirect(self.url(self.next_step(name, stored)))

    def back_url(self, name: str, stored: Mapping[str, Any], changing: bool) -> str:
        """The back link of a step: the check page when changing an answer, else the step before."""
        if changing:
            return url_for(self.endpoint(CHECK))
        back = self.previous_step(name, stored)
        return self.url(back) if back else url_for(self.endpoint("start"))

    def answer_url(self, answer: str) -> str:
        """The address of the step that asks for ``answer``."""
        return self.url(self.step_for(answer))


def leave(flow: Flow, draft: RequestDraft, endpoint: str) -> Response:
    """Leave the flow: delete what was entered and go to the page that explains why."""
    drafts.discard_draft(db.session(), draft)
    session.pop(flow.session_key, None)
    db.commit()
    return redirect(url_for(endpoint))


def step_view(flow: Flow, name: str) -> Response | str:
    """Ask one question; on a valid answer, store it and go on."""
    step = flow.step_named(name)
    if step is None or step.endpoint is not None:
        abort(404)
    try:
        draft = flow.draft()
    except DraftExpired:
        return flow.expired()
    stored = draft.answers
    if flow.only_applicable and not step.applies(flow.read(stored)):
        return redirect(url_for(flow.endpoint(CHECK)))
    changing = request.args.get("change") == "1"
    form = flow.form_for(step, stored, request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        new = {field: form[field].data for field in step.fields}
        for way_out in step.exits:
            if way_out.when(new):
                return leave(flow, draft, way_out.endpoint)
        flow.remember(draft, step, new)
        db.commit()
        return flow.after(name, draft.answers, changing)
    return render_template(
        f"{flow.templates}/{name}.html",
        form=form,
        step=name,
        answers=stored,
        back_url=flow.back_url(name, stored, changing),
    )


def check_view(flow: Flow) -> Response | str:
    """Show every answer with change links; on consent, finish the flow once."""
    try:
        draft = flow.draft()
    except DraftExpired:
        # A second click on the button after the first went through lands on the confirmation.
        if request.method == "POST" and session.get(flow.done_key):
            return redirect(url_for(flow.endpoint("done")))
        return flow.expired()
    if flow.finished(draft) is not None:
        return redirect(url_for(flow.endpoint("done")))
    resume = flow.resume(draft.answers)
    if resume != CHECK:
        return redirect(flow.url(resume))
    form = flow.check_form()
    if form.validate_on_submit():
        return flow.finish(draft)
    applicable = flow.applicable(draft.answers)
    return render_template(
        f"{flow.templates}/check.html",
        form=form,
        answers=draft.answers,
        applicable=applicable,
        # A step's change link; none for a step these answers skip.
        change=lambda name: flow.url(name, change="1") if name in applicable else "",
        back_url=flow.url(flow.previous_step(CHECK, draft.answers) or flow.steps[-1].name),
        **flow.summary(flow.read(draft.answers)),
    )
