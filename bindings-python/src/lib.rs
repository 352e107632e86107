//! cryptocache for python (work in progress: see the issue).
