"""One router per resource: health, session, faces, style jobs, visualisation jobs, jobs."""
