//! `maina resident ...`: registering residents, showing them, recording their
//! changes and their history; and finding a resident by either identifier (shared
//! with `maina number`).

use crate::commands::{format_micros, import, or_placeholder, print_list, resident_identifier};
use crate::context::Context;
use anyhow::Result;
use clap::{Args, Subcommand};
use maina_core::person::{Citizenship, NameChange};
use maina_core::resident::RegistrationForm;
use maina_core::ResidentCode;
use maina_proto::ClearMyNumber;
use maina_service::residents::ResidentChange;
use maina_service::{Service, ServiceConfig};
use maina_store::{ResidentView, Store};

#[derive(Subcommand, Debug)]
pub enum ResidentCommand {
    /// Register a resident (birth or move-in from abroad) and assign a My Number.
    Register(RegisterArgs),
    /// Show a resident record (by resident record code, or by My Number: audited).
    Show {
        /// Resident record code (11 digits), or `-` to type or pipe a My Number
        /// (never given as an argument: shell history, `ps`).
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

/// The use cases, over the command line's store.
pub fn service(store: &Store) -> Service {
    Service::new(store.clone(), ServiceConfig::default())
}

fn print_view(view: &ResidentView, revealed: Option<&ClearMyNumber>) {
    let record = &view.record;
    let number = match revealed {
        Some(clear) => clear.number().to_string(),
        None => view.my_number.masked(),
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
    let service = service(store);
    match command {
        ResidentCommand::Register(args) => {
            let registered = service.register(&who, &args.form()).await?;
            let code: ResidentCode = registered.resident_code.parse()?;
            println!("resident record code  {code}");
            if args.reveal_number {
                let clear = service
                    .reveal_number(&who, &registered.resident_code)
                    .await?;
                println!("My Number             {}", clear.my_number.number());
            } else {
                println!("My Number             {}", registered.my_number_masked);
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
            let view = service
                .find_resident(&who, &resident_identifier(&resident)?)
                .await?;
            let revealed = if reveal_number {
                let code = view.resident_code.as_digits();
                Some(service.reveal_number(&who, &code).await?.my_number)
            } else {
                None
            };
            if json {
                // The view writes the number masked; a reveal puts it in clear.
                let mut value = serde_json::to_value(&view)?;
                if let (Some(clear), Some(number)) = (&revealed, value.get_mut("my_number")) {
                    *number = serde_json::to_value(clear)?;
                }
                println!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                print_view(&view, revealed.as_ref());
            }
        }
        ResidentCommand::Move {
            resident,
            municipality,
            address,
            date,
        } => {
            let change = ResidentChange::Move {
                municipality,
                address,
                date,
            };
            record_change(&service, context, &resident, change).await?;
        }
        ResidentCommand::Address {
            resident,
            address,
            date,
        } => {
            let change = ResidentChange::Address { address, date };
            record_change(&service, context, &resident, change).await?;
        }
        ResidentCommand::Rename(args) => {
            let change = ResidentChange::Rename {
                change: args.name.change(),
                date: args.date.clone(),
            };
            record_change(&service, context, &args.resident, change).await?;
        }
        ResidentCommand::Depart { resident, date } => {
            let change = ResidentChange::Departure { date };
            record_change(&service, context, &resident, change).await?;
        }
        ResidentCommand::Die { resident, date } => {
            let change = ResidentChange::Death { date };
            record_change(&service, context, &resident, change).await?;
        }
        ResidentCommand::History { resident, json } => {
            let view = service
                .find_resident(&who, &resident_identifier(&resident)?)
                .await?;
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

/// Finds `resident` (audited), records the change through the same use case as the
/// API and the console, and prints the record's new state.
async fn record_change(
    service: &Service,
    context: &Context,
    resident: &str,
    change: ResidentChange,
) -> Result<()> {
    let who = context.who();
    let view = service
        .find_resident(&who, &resident_identifier(resident)?)
        .await?;
    let code = view.resident_code.as_digits();
    let changed = service.change_resident(&who, &code, &change).await?;
    println!(
        "resident {} is now version {} ({}, {}, {})",
        view.resident_code, changed.version, changed.status, changed.municipality, changed.address
    );
    Ok(())
}
