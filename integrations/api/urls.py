from django.urls import path

from integrations.api.views import IntakeView

urlpatterns = [
    path("intake/<slug:system>/cases/", IntakeView.as_view(), name="intake-cases"),
]
