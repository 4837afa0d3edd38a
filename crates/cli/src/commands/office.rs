//! `maina office ...`: the office where a municipality's residents collect their
//! cards (show, set), its day list of appointments, and the reminders for cron.
//! The same use cases as the API and the console.

use crate::commands::resident;
use crate::context::Context;
use anyhow::Result;
use clap::Subcommand;
use maina_proto::{OfficeRequest, OfficeResponse};

#[derive(Subcommand, Debug)]
pub enum OfficeCommand {
    /// Show a municipality's office (created with the defaults on first use).
    Show {
        #[arg(long)]
        municipality: String,
    },
    /// Change a municipality's office; fields not given keep their value.
    Set {
        #[arg(long)]
        municipality: String,
        #[arg(long)]
        name_ja: Option<String>,
        #[arg(long)]
        name_en: Option<String>,
        #[arg(long)]
        address_ja: Option<String>,
        #[arg(long)]
        address_en: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        /// e.g. "mon-fri 08:30-17:15; sat 09:00-12:00" (Japan time).
        #[arg(long)]
        hours: Option<String>,
        /// Residents served at once in one slot.
        #[arg(long)]
        counters: Option<u32>,
        #[arg(long)]
        slot_minutes: Option<u32>,
        /// The booking window: from this many days ahead...
        #[arg(long)]
        book_from_days: Option<u32>,
        /// ...to this many.
        #[arg(long)]
        book_to_days: Option<u32>,
    },
    /// The office's appointments of a day (today in Japan when no date is given).
    Day {
        #[arg(long)]
        municipality: String,
        /// YYYY-MM-DD.
        #[arg(long)]
        date: Option<String>,
    },
    /// Queue the reminders of tomorrow's appointments (for cron; `maina serve`
    /// does it by itself).
    Remind,
}

fn print_office(office: &OfficeResponse) {
    println!("municipality    {}", office.municipality);
    println!("name            {} / {}", office.name_ja, office.name_en);
    println!(
        "address         {} / {}",
        office.address_ja, office.address_en
    );
    println!("phone           {}", office.phone);
    println!("hours           {}", office.hours);
    println!("counters        {}", office.counters);
    println!("slot minutes    {}", office.slot_minutes);
    println!(
        "booking window  {} to {} days ahead",
        office.book_from_days, office.book_to_days
    );
    println!(
        "updated         {} by {}",
        office.updated_at, office.updated_by
    );
}

pub async fn run(context: &Context, command: OfficeCommand) -> Result<()> {
    context
        .with_store(async |store| {
            let who = context.who();
            let service = resident::service(store);
            match command {
                OfficeCommand::Show { municipality } => {
                    print_office(&service.office_of(&municipality).await?);
                }
                OfficeCommand::Set {
                    municipality,
                    name_ja,
                    name_en,
                    address_ja,
                    address_en,
                    phone,
                    hours,
                    counters,
                    slot_minutes,
                    book_from_days,
                    book_to_days,
                } => {
                    let now = service.office_of(&municipality).await?;
                    let request = OfficeRequest {
                        name_ja: name_ja.unwrap_or(now.name_ja),
                        name_en: name_en.unwrap_or(now.name_en),
                        address_ja: address_ja.unwrap_or(now.address_ja),
                        address_en: address_en.unwrap_or(now.address_en),
                        phone: phone.unwrap_or(now.phone),
                        hours: hours.unwrap_or(now.hours),
                        counters: counters.unwrap_or(now.counters),
                        slot_minutes: slot_minutes.unwrap_or(now.slot_minutes),
                        book_from_days: book_from_days.unwrap_or(now.book_from_days),
                        book_to_days: book_to_days.unwrap_or(now.book_to_days),
                    };
                    let office = service.update_office(&who, &municipality, &request).await?;
                    print_office(&office);
                }
                OfficeCommand::Day { municipality, date } => {
                    let list = service
                        .day_list(&who, Some(&municipality), date.as_deref())
                        .await?;
                    println!("{} — {}", list.office.name_ja, list.date);
                    for entry in &list.appointments {
                        let time = entry.starts_at.get(11..).unwrap_or(&entry.starts_at);
                        println!("{time}  {}  {}", entry.notice_number, entry.name);
                    }
                    println!("{} appointments", list.appointments.len());
                }
                OfficeCommand::Remind => {
                    let sent = service
                        .send_appointment_reminders(chrono::Utc::now())
                        .await?;
                    println!("{sent} reminders queued");
                }
            }
            Ok(())
        })
        .await
}
