"""URLs of the teams pages and their JSON endpoints (namespace ``teams``).

Every change is a POST (CSRF-checked) to its own URL; the team is named by
its group's id, and a group the person is not in answers 404.
"""

from django.urls import URLPattern, path

from teams import api, views

app_name = "teams"

urlpatterns: list[URLPattern] = [
    path("teams/", views.team_list, name="list"),
    path("teams/new", views.team_create, name="create"),
    path("teams/<int:group_id>/", views.team_detail, name="detail"),
    path("teams/<int:group_id>/rename", views.team_rename, name="rename"),
    path("teams/<int:group_id>/members", views.member_add, name="add_member"),
    path(
        "teams/<int:group_id>/members/<int:user_id>/remove",
        views.member_remove,
        name="remove_member",
    ),
    path(
        "teams/<int:group_id>/members/<int:user_id>/manager",
        views.member_manager,
        name="set_manager",
    ),
    path("teams/<int:group_id>/leave", views.team_leave, name="leave"),
    path("teams/<int:group_id>/delete", views.team_delete, name="delete"),
    path("api/people", api.people, name="api_people"),
]
