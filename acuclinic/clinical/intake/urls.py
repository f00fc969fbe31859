from django.urls import path

from . import views

urlpatterns = [
    path("<str:token>/", views.start, name="intake_start"),
    path("<str:token>/step/<int:number>/", views.step, name="intake_step"),
    path("<str:token>/saved/", views.saved, name="intake_saved"),
    path("<str:token>/consent/", views.consent, name="intake_consent"),
    path("<str:token>/done/", views.done, name="intake_done"),
    path("<str:token>/withdraw/", views.withdraw, name="intake_withdraw"),
]
