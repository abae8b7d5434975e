from django.urls import path

from chat.api import views

urlpatterns = [
    path("cases/<int:case_pk>/messages/", views.MessageListView.as_view(), name="case-messages"),
    path(
        "cases/<int:case_pk>/messages/read/",
        views.ReadMarkView.as_view(),
        name="case-messages-read",
    ),
    path(
        "messages/<int:pk>/attachment/", views.AttachmentView.as_view(), name="message-attachment"
    ),
]
