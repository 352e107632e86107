//! cryptocache for c (work in progress: see the issue).
