"""Everything that makes up demo and test data, in one place: `builder.build_demo()` (what
`m4s demo` loads), the per-area demo builders (`service` with `service_base` and
`service_history`, `loyalty`, `telematics`, the last with the history backfill), the starter
set-ups a dealer group begins with (`starters.service`, `starters.loyalty`) and the synthetic
VINs, plates, names and addresses (`synthetic`).

A plain package, not a Django app: it has no models. Imports only point down (builder -> the area
builders -> starters / synthetic / accounts), never back up."""
