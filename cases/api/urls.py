from rest_framework.routers import SimpleRouter

from cases.api.views import CaseViewSet, InvitationViewSet

router = SimpleRouter()
router.register("cases", CaseViewSet, basename="case")
router.register("invitations", InvitationViewSet, basename="invitation")

urlpatterns = router.urls
