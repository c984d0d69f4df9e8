//! Tomoni's database migrations: one file per step, applied in order, never editing a released step.
//!
//! This crate deliberately does not import the schema crate's entities: a migration describes the
//! database as it was on the day it was written, and must keep doing so when the entities change.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_organisations_and_people;
mod m20261124_000002_create_profiles;
mod m20261124_000003_create_devices_and_pairing_codes;
mod m20261124_000004_create_audit_log;
mod m20261124_000005_create_push_tables;
mod m20261124_000006_create_training;
mod m20261124_000007_create_support_matches;
mod m20261124_000008_create_outings;
mod m20261124_000009_outing_member_times;
mod m20261202_000010_notification_outing;
mod m20261202_000011_health_indexes;
mod m20261202_000012_alert_ladder;
mod m20261202_000013_duty_rota;
mod m20261202_000014_coordinator_email;
mod m20261202_000015_concerns_and_plan_reads;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_organisations_and_people::Migration),
            Box::new(m20261124_000002_create_profiles::Migration),
            Box::new(m20261124_000003_create_devices_and_pairing_codes::Migration),
            Box::new(m20261124_000004_create_audit_log::Migration),
            Box::new(m20261124_000005_create_push_tables::Migration),
            Box::new(m20261124_000006_create_training::Migration),
            Box::new(m20261124_000007_create_support_matches::Migration),
            Box::new(m20261124_000008_create_outings::Migration),
            Box::new(m20261124_000009_outing_member_times::Migration),
            Box::new(m20261202_000010_notification_outing::Migration),
            Box::new(m20261202_000011_health_indexes::Migration),
            Box::new(m20261202_000012_alert_ladder::Migration),
            Box::new(m20261202_000013_duty_rota::Migration),
            Box::new(m20261202_000014_coordinator_email::Migration),
            Box::new(m20261202_000015_concerns_and_plan_reads::Migration),
        ]
    }
}
