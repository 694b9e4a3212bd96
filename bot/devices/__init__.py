"""Device readiness: which printers, scanners and apps still send with Basic auth, and where each goes."""
