from rest_framework.routers import SimpleRouter

from ratings.api.views import CriterionViewSet

router = SimpleRouter()
router.register("rating-criteria", CriterionViewSet, basename="rating-criterion")

urlpatterns = router.urls
