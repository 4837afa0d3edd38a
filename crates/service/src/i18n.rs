//! The message catalogues (Fluent) of everything a resident or an officer reads:
//! pages, e-mails, printed receipts. English and Japanese; a missing message shows
//! its id (visible, never a panic).

use fluent_bundle::{FluentBundle, FluentResource};
use std::collections::HashMap;

/// The languages of every page, e-mail and letter.
pub const LANGUAGES: [&str; 2] = ["en", "ja"];

/// One of [`LANGUAGES`] for a stored or requested language tag: Japanese for `ja`,
/// English otherwise.
pub fn language(tag: &str) -> &'static str {
    if tag.trim().eq_ignore_ascii_case("ja") {
        "ja"
    } else {
        "en"
    }
}

/// Every message of every language, formatted once at start-up.
pub struct Messages {
    catalogues: HashMap<&'static str, HashMap<String, String>>,
}

impl std::fmt::Debug for Messages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Messages")
    }
}

impl Default for Messages {
    fn default() -> Self {
        Self::load()
    }
}

impl Messages {
    pub fn load() -> Self {
        let mut catalogues = HashMap::new();
        // The resident portal's messages have files of their own (issue 14).
        let en = [
            include_str!("../locales/en.ftl"),
            include_str!("../locales/portal.en.ftl"),
        ]
        .join("\n");
        let ja = [
            include_str!("../locales/ja.ftl"),
            include_str!("../locales/portal.ja.ftl"),
        ]
        .join("\n");
        catalogues.insert("en", catalogue("en", &en));
        catalogues.insert("ja", catalogue("ja", &ja));
        Self { catalogues }
    }

    /// A message in `lang`, or its id when missing.
    pub fn message(&self, lang: &str, id: &str) -> String {
        self.catalogues
            .get(lang)
            .and_then(|m| m.get(id))
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// The whole catalogue of `lang` (for templates).
    pub fn catalogue(&self, lang: &str) -> HashMap<String, String> {
        self.catalogues.get(lang).cloned().unwrap_or_default()
    }
}

fn catalogue(lang: &str, source: &str) -> HashMap<String, String> {
    let mut messages = HashMap::new();
    let resource = match FluentResource::try_new(source.to_string()) {
        Ok(resource) => resource,
        Err((resource, errors)) => {
            tracing::error!(?errors, lang, "message catalogue has errors");
            resource
        }
    };
    let ids: Vec<String> = resource
        .entries()
        .filter_map(|entry| match entry {
            fluent_syntax::ast::Entry::Message(message) => Some(message.id.name.to_string()),
            _ => None,
        })
        .collect();
    let Ok(langid) = lang.parse::<unic_langid::LanguageIdentifier>() else {
        return messages;
    };
    let mut bundle = FluentBundle::new(vec![langid]);
    bundle.set_use_isolating(false);
    if bundle.add_resource(resource).is_err() {
        return messages;
    }
    for id in ids {
        if let Some(pattern) = bundle.get_message(&id).and_then(|m| m.value()) {
            let mut errors = vec![];
            let text = bundle
                .format_pattern(pattern, None, &mut errors)
                .to_string();
            messages.insert(id, text);
        }
    }
    messages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_messages() {
        let messages = Messages::load();
        let en = messages.catalogue("en");
        let ja = messages.catalogue("ja");
        assert!(en.len() > 50, "{}", en.len());
        let mut missing: Vec<&String> = en.keys().filter(|id| !ja.contains_key(*id)).collect();
        missing.extend(ja.keys().filter(|id| !en.contains_key(*id)));
        assert!(missing.is_empty(), "{missing:?}");
        assert_eq!(messages.message("en", "no-such-id"), "no-such-id");
        assert_eq!(language("JA"), "ja");
        assert_eq!(language("fr"), "en");
    }
}
