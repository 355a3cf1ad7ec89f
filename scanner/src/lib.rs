//! placeholder, replaced by the scan engine
