from rest_framework.routers import SimpleRouter

from cases.api.uploads import PhotoUploadViewSet
from cases.api.views import (
    CaseViewSet,
    ExtensionViewSet,
    InvitationViewSet,
    SupervisionOrderViewSet,
)

router = SimpleRouter()
router.register("cases", CaseViewSet, basename="case")
router.register("invitations", InvitationViewSet, basename="invitation")
router.register("supervision-orders", SupervisionOrderViewSet, basename="supervision-order")
router.register("extensions", ExtensionViewSet, basename="extension")
router.register("uploads", PhotoUploadViewSet, basename="upload")

urlpatterns = router.urls
