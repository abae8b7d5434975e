"""Problem categories and case templates with admin-defined form fields (low-code)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from grids.models import code_validator
from templates.choices import FieldKind, Priority


class Category(TimeStampedModel):
    """A problem category (e.g. 市容环境 › 占道经营); at most two levels."""

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent category"),
    )
    position = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        parent = self.parent if self.parent_id else None
        return f"{parent.name} › {self.name}" if parent is not None else self.name

    def clean(self) -> None:
        parent = self.parent if self.parent_id else None
        if parent is not None and parent.parent_id:
            raise ValidationError({"parent": _("Categories have at most two levels.")})
        if self.parent_id and self.parent_id == self.pk:
            raise ValidationError({"parent": _("A category cannot be its own parent.")})


class CaseTemplate(TimeStampedModel):
    """A common case (常发案件): category, default departments, limits, form fields."""

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=100)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="templates", verbose_name=_("category")
    )
    description = models.TextField(
        _("description skeleton"),
        blank=True,
        help_text=_("Text the phone pre-fills into the case description."),
    )
    default_priority = models.CharField(
        _("default priority"), max_length=16, choices=Priority.choices, default=Priority.NORMAL
    )
    handling_limit_hours = models.PositiveIntegerField(
        _("handling limit (hours)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 365)],
        help_text=_("Empty: the limit of the case's priority."),
    )
    default_departments = models.ManyToManyField(
        "departments.Department",
        blank=True,
        related_name="default_for_templates",
        verbose_name=_("default departments"),
    )
    position = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("case template")
        verbose_name_plural = _("case templates")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name


class TemplateField(models.Model):
    """One question of a template's form, answered by the caller when raising a case."""

    template = models.ForeignKey(
        CaseTemplate, on_delete=models.CASCADE, related_name="fields", verbose_name=_("template")
    )
    key = models.CharField(
        _("key"),
        max_length=40,
        validators=[
            RegexValidator(
                r"^[a-z][a-z0-9_]*$",
                _("Lower-case letters, digits and '_', starting with a letter."),
            )
        ],
        help_text=_("Name of the answer in the case's data, e.g. stall_count."),
    )
    label = models.CharField(_("label"), max_length=100)
    kind = models.CharField(
        _("type"), max_length=16, choices=FieldKind.choices, default=FieldKind.TEXT
    )
    required = models.BooleanField(_("required"), default=False)
    choices = models.TextField(
        _("choices"), blank=True, help_text=_("For choice fields: one option per line.")
    )
    help_text = models.CharField(_("help text"), max_length=200, blank=True)
    position = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("form field")
        verbose_name_plural = _("form fields")
        ordering = ["template_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["template", "key"], name="unique_template_field_key")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]

    def clean(self) -> None:
        if self.kind == FieldKind.CHOICE and not self.choice_list:
            raise ValidationError({"choices": _("A choice field needs at least one option.")})
        if self.kind != FieldKind.CHOICE and self.choices.strip():
            raise ValidationError({"choices": _("Only choice fields have options.")})
