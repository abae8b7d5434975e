from django.urls import path

from chat.api import views

urlpatterns = [
    path("cases/<int:id>/messages/", views.MessageListView.as_view(), name="case-messages"),
    path(
        "cases/<int:id>/messages/read/",
        views.ReadMarkView.as_view(),
        name="case-messages-read",
    ),
    path(
        "messages/<int:pk>/attachment/", views.AttachmentView.as_view(), name="message-attachment"
    ),
]
