"""The service area's pages: `owner` (the owner app at /app/service/) and `console` (the staff
console at /console/service/). URLs in m4s/service/urls.py."""
