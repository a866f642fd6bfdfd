"""Running M4S: the server (`m4s serve`), the process runner (`m4s up`), health and metrics
endpoints, backup and restore. Sits at the top beside `web`: it reads every area, none reads it."""
