from django.urls import path
from rest_framework.routers import SimpleRouter

from integrations.api.views import IntakeReviewViewSet, IntakeView

router = SimpleRouter()
router.register("intake-reviews", IntakeReviewViewSet, basename="intake-review")

urlpatterns = [
    path("intake/<slug:system>/cases/", IntakeView.as_view(), name="intake-cases"),
    *router.urls,
]
