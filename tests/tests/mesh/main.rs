//! Tests of the mesh over real sockets, in one binary so the workspace links
//! one large test executable instead of one per area. The trace tests live in
//! binaries of their own: each installs the process-wide subscriber.

mod ayushctl_seed_and_reports;
mod ayushctl_up;
mod beneficiary_registry;
mod card_drives;
mod claims;
mod duties;
mod facility_registry;
mod gateway;
mod gateway_tls;
mod nhcx;
mod outside_services;
mod platform_database;
mod platform_server;
mod portability;
mod portability_paid_once;
mod preauth_flow;
mod privacy;
mod roles;
mod schemes;
mod service_binaries;
mod turnaround;
mod vay_vandana;
