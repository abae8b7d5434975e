from django.urls import path

from accounts.api import views

urlpatterns = [
    path("auth/token/", views.LoginView.as_view(), name="token"),
    path("auth/session/", views.SessionLoginView.as_view(), name="session"),
    path("auth/token/refresh/", views.RefreshView.as_view(), name="token-refresh"),
    path("auth/logout/", views.LogoutView.as_view(), name="logout"),
    path("auth/password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("me/", views.MeView.as_view(), name="me"),
    path("ws-ticket/", views.SocketTicketView.as_view(), name="ws-ticket"),
]
