//! cryptocache for node (work in progress: see the issue).
