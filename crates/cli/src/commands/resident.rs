//! `maina resident ...`: registering residents, showing them, recording their
//! changes and their history; and finding a resident by either identifier (shared
//! with `maina number`).

use crate::commands::{format_micros, import, or_placeholder, print_list, today};
use crate::context::Context;
use anyhow::{Context as _, Result};
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use maina_core::person::{parse_date, Address, Citizenship, Name, NameChange};
use maina_core::resident::{RegistrationForm, ResidentEvent};
use maina_core::{MyNumber, ResidentCode};
use maina_store::{ResidentView, Store};

#[derive(Subcommand, Debug)]
pub enum ResidentCommand {
    /// Register a resident (birth or move-in from abroad) and assign a My Number.
    Register(RegisterArgs),
    /// Show a resident record (by resident record code, or by My Number: audited).
    Show {
        /// Resident record code (11 digits) or My Number (12 digits).
        resident: String,
        /// Print the My Number in clear (the read is recorded in the access log).
        #[arg(long)]
        reveal_number: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Move to another municipality (転出・転入).
    Move {
        resident: String,
        /// The new municipality's 6-digit code.
        #[arg(long)]
        municipality: String,
        /// The new address.
        #[arg(long)]
        address: String,
        /// Effective date (YYYY-MM-DD; default today).
        #[arg(long)]
        date: Option<String>,
    },
    /// Change the address within the municipality (転居).
    Address {
        resident: String,
        #[arg(long)]
        address: String,
        #[arg(long)]
        date: Option<String>,
    },
    /// Change the name; parts not given stay as they are.
    Rename(RenameArgs),
    /// Record a departure abroad (国外転出).
    Depart {
        resident: String,
        #[arg(long)]
        date: Option<String>,
    },
    /// Record a death.
    Die {
        resident: String,
        #[arg(long)]
        date: Option<String>,
    },
    /// Show the record's history: the registration and every change.
    History {
        resident: String,
        #[arg(long)]
        json: bool,
    },
    /// Import residents from a CSV file (a bulk job: resumable, reports rejected rows).
    Import(import::ImportArgs),
}

/// The registration form as flags (the same fields as the CSV columns).
#[derive(Args, Debug)]
pub struct RegisterArgs {
    /// 6-digit local government code of the municipality.
    #[arg(long)]
    municipality: String,
    /// birth | move-in-from-abroad
    #[arg(long, default_value = "move-in-from-abroad")]
    reason: String,
    #[command(flatten)]
    name: NameArgs,
    /// YYYY-MM-DD
    #[arg(long)]
    birth_date: String,
    /// male | female | not-applicable
    #[arg(long)]
    sex: String,
    #[arg(long)]
    address: String,
    /// ISO 3166 alpha-2 code; JP (the default) for Japanese nationals.
    #[arg(long)]
    nationality: Option<String>,
    /// Passport number (foreign nationals).
    #[arg(long)]
    passport: Option<String>,
    /// Residence status, e.g. student, engineer-humanities-international, permanent-resident.
    #[arg(long)]
    residence_status: Option<String>,
    /// Period of stay as granted: 5y, 1y6m, 3m, 90d.
    #[arg(long)]
    period_of_stay: Option<String>,
    /// For a Japanese national returning from abroad: the earlier resident record code.
    #[arg(long)]
    prior_resident_code: Option<String>,
    /// Print the new My Number in clear (recorded in the access log).
    #[arg(long)]
    reveal_number: bool,
}

impl RegisterArgs {
    fn form(&self) -> RegistrationForm {
        RegistrationForm {
            municipality: Some(self.municipality.clone()),
            reason: Some(self.reason.clone()),
            family_name: self.name.family_name.clone(),
            given_name: self.name.given_name.clone(),
            family_kana: self.name.family_kana.clone(),
            given_kana: self.name.given_kana.clone(),
            alphabet_name: self.name.alphabet_name.clone(),
            alias: self.name.alias.clone(),
            name_kana: self.name.name_kana.clone(),
            birth_date: Some(self.birth_date.clone()),
            sex: Some(self.sex.clone()),
            address: Some(self.address.clone()),
            nationality: self.nationality.clone(),
            passport: self.passport.clone(),
            residence_status: self.residence_status.clone(),
            period_of_stay: self.period_of_stay.clone(),
            prior_resident_code: self.prior_resident_code.clone(),
        }
    }
}

/// The parts of a name, as flags: all of a new resident's, or the parts a rename
/// changes (the others stay as they are).
#[derive(Args, Debug)]
pub struct NameArgs {
    /// Family name (Japanese nationals), in kanji or kana.
    #[arg(long)]
    family_name: Option<String>,
    /// Given name (Japanese nationals).
    #[arg(long)]
    given_name: Option<String>,
    /// Family name in kana (Japanese nationals).
    #[arg(long)]
    family_kana: Option<String>,
    /// Given name in kana (Japanese nationals).
    #[arg(long)]
    given_kana: Option<String>,
    /// Name in the Latin alphabet as on the passport (foreign nationals).
    #[arg(long)]
    alphabet_name: Option<String>,
    /// Registered alias, 通称 (foreign nationals, optional; on a rename, --alias ""
    /// removes it).
    #[arg(long)]
    alias: Option<String>,
    /// Reading of the name in kana (foreign nationals, optional).
    #[arg(long)]
    name_kana: Option<String>,
}

impl NameArgs {
    /// The parts given, as a change to a name.
    fn change(&self) -> NameChange {
        NameChange {
            family_name: self.family_name.clone(),
            given_name: self.given_name.clone(),
            family_kana: self.family_kana.clone(),
            given_kana: self.given_kana.clone(),
            alphabet_name: self.alphabet_name.clone(),
            alias: self.alias.clone(),
            name_kana: self.name_kana.clone(),
        }
    }
}

#[derive(Args, Debug)]
pub struct RenameArgs {
    resident: String,
    #[command(flatten)]
    name: NameArgs,
    #[arg(long)]
    date: Option<String>,
}

pub fn date_or_today(date: &Option<String>) -> Result<NaiveDate> {
    match date {
        Some(date) => Ok(parse_date("date", date)?),
        None => Ok(today()),
    }
}

/// Finds a resident by resident record code (11 digits) or My Number (12 digits).
/// A look-up by My Number is recorded in the access log.
pub async fn find(store: &Store, context: &Context, who: &str) -> Result<ResidentView> {
    // Twelve digits (as typed, separators aside) are a My Number; anything else is
    // read as a resident record code, so errors speak of the identifier meant.
    let digits = who.chars().filter(|c| c.is_numeric()).count();
    let (view, action) = if digits == MyNumber::LEN {
        let number: MyNumber = who.parse()?;
        let view = store
            .resident_by_number(&number)
            .await
            .context("My Number")?;
        (view, "read-by-my-number")
    } else {
        let code: ResidentCode = who.parse()?;
        let view = store
            .resident_by_code(&code)
            .await
            .context("resident record code")?;
        (view, "read")
    };
    store
        .audit(&context.who(), action, Some(view.resident_key))
        .await?;
    Ok(view)
}

fn print_view(view: &ResidentView, reveal: bool) {
    let record = &view.record;
    let number = if reveal {
        view.my_number.to_string()
    } else {
        view.my_number.masked()
    };
    println!("resident record code  {}", view.resident_code);
    println!("My Number             {number}");
    println!("status                {}", view.status.as_str());
    println!("name                  {}", record.person.name);
    println!("birth date            {}", record.person.birth_date);
    println!("sex                   {:?}", record.person.sex);
    println!("municipality          {}", record.municipality.as_digits());
    println!("address               {}", record.address);
    match &record.person.citizenship {
        Citizenship::Japanese => println!("nationality           JP"),
        Citizenship::Foreign {
            nationality,
            residence_status,
            stay_until,
            ..
        } => {
            println!("nationality           {}", nationality.as_str());
            println!("residence status      {}", residence_status.name());
            if let Some(until) = stay_until {
                println!("stay until            {until}");
            }
        }
    }
    println!("since                 {}", record.since);
    println!("version               {}", view.version);
}

pub async fn run(context: &Context, command: ResidentCommand) -> Result<()> {
    if let ResidentCommand::Import(args) = command {
        return import::run(context, args).await;
    }
    context
        .with_store(async |store| run_with(store, context, command).await)
        .await
}

async fn run_with(store: &Store, context: &Context, command: ResidentCommand) -> Result<()> {
    let who = context.who();
    match command {
        ResidentCommand::Register(args) => {
            let registration = args.form().parse(today())?;
            let registered = store.register(registration, &who).await?;
            println!("resident record code  {}", registered.resident_code);
            if args.reveal_number {
                store
                    .audit(&who, "reveal-my-number", Some(registered.resident_key))
                    .await?;
                println!("My Number             {}", registered.my_number);
            } else {
                println!("My Number             {}", registered.my_number.masked());
            }
            if registered.returned {
                println!(
                    "returning resident: the earlier record and its My Number were taken up again"
                );
            }
        }
        ResidentCommand::Show {
            resident,
            reveal_number,
            json,
        } => {
            let view = find(store, context, &resident).await?;
            if reveal_number {
                store
                    .audit(&context.who(), "reveal-my-number", Some(view.resident_key))
                    .await?;
            }
            if json {
                let mut value = serde_json::to_value(&view)?;
                if !reveal_number {
                    if let Some(number) = value.get_mut("my_number") {
                        *number = serde_json::Value::String(view.my_number.masked());
                    }
                }
                println!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                print_view(&view, reveal_number);
            }
        }
        ResidentCommand::Move {
            resident,
            municipality,
            address,
            date,
        } => {
            record_event(store, context, &resident, |_| {
                Ok(ResidentEvent::Moved {
                    date: date_or_today(&date)?,
                    municipality: municipality.parse().context("municipality")?,
                    address: Address::parse(&address)?,
                })
            })
            .await?;
        }
        ResidentCommand::Address {
            resident,
            address,
            date,
        } => {
            record_event(store, context, &resident, |_| {
                Ok(ResidentEvent::AddressChanged {
                    date: date_or_today(&date)?,
                    address: Address::parse(&address)?,
                })
            })
            .await?;
        }
        ResidentCommand::Rename(args) => {
            record_event(store, context, &args.resident, |view| {
                Ok(ResidentEvent::Renamed {
                    name: renamed(&view.record.person.name, &args.name)?,
                    date: date_or_today(&args.date)?,
                })
            })
            .await?;
        }
        ResidentCommand::Depart { resident, date } => {
            record_event(store, context, &resident, |_| {
                Ok(ResidentEvent::Departed {
                    date: date_or_today(&date)?,
                })
            })
            .await?;
        }
        ResidentCommand::Die { resident, date } => {
            record_event(store, context, &resident, |_| {
                Ok(ResidentEvent::Died {
                    date: date_or_today(&date)?,
                })
            })
            .await?;
        }
        ResidentCommand::History { resident, json } => {
            let view = find(store, context, &resident).await?;
            let history = store.history(view.resident_key).await?;
            print_list(&history, json, |entry| {
                let recorded = format_micros(entry.recorded_at, "%Y-%m-%d %H:%M:%S");
                let actor = or_placeholder(&entry.actor, "-");
                format!(
                    "v{:<3} {}  {:<16} recorded {}  by {}",
                    entry.version, entry.date, entry.kind, recorded, actor
                )
            })?;
        }
        ResidentCommand::Import(_) => anyhow::bail!("import is handled separately"),
    }
    Ok(())
}

/// Finds `resident`, records the event `make` gives for them, and prints the
/// record's new state.
async fn record_event(
    store: &Store,
    context: &Context,
    resident: &str,
    make: impl FnOnce(&ResidentView) -> Result<ResidentEvent>,
) -> Result<()> {
    let view = find(store, context, resident).await?;
    let event = make(&view)?;
    changed(
        store
            .apply(view.resident_key, event, &context.who())
            .await?,
    );
    Ok(())
}

fn changed(view: ResidentView) {
    println!(
        "resident {} is now version {} ({}, {}, {})",
        view.resident_code,
        view.version,
        view.status.as_str(),
        view.record.municipality.as_digits(),
        view.record.address
    );
}

fn renamed(current: &Name, args: &NameArgs) -> Result<Name> {
    Ok(current.changed(&args.change())?)
}
