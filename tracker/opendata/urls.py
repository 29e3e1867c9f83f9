from django.urls import path

from tracker.opendata import views

# Included under /downloads/ in the data namespace (tracker.public.data_urls).
urlpatterns = [
    path("", views.index, name="downloads"),
    path("<path:name>", views.download, name="download_file"),
]
