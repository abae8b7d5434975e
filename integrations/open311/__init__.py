"""Open311 GeoReport v2: services are our case templates, requests our cases."""
