"""Template filters of the back office's analytics pages."""

from django import template

from analytics.scope import may_see_analytics

register = template.Library()


@register.filter
def sees_dashboard(user) -> bool:
    """Whether ``user`` may open the dashboard (the index shows its link only then)."""
    return may_see_analytics(user)
