"""Console pages of the service area at /console/service/, one module per page group:
`board` (the day's board, an appointment: check-in, cancel), `booking` (staff booking, walk-ins),
`workbench` (the repair-order workbench and the printable invoice) and `figures` (the store
figures and follow-ups); `common` holds their plumbing.

Thin, like every page: parse the form, call one service or selector, show the service's refusal
message (never a 500) or redirect. Objects of another dealer group are 404 through the scoped
selectors; a missing capability is 403.
"""
