//! Data-key rotation: the re-seal job, its resumption after a stop, and the keys
//! that never rotate (numbers and blind indexes survive it).

use super::*;
use maina_store::Sealer;

/// The key ids found in every sealed column, read raw from the database.
async fn stored_key_ids(backend: &Backend) -> std::collections::BTreeSet<u32> {
    let mut ids = std::collections::BTreeSet::new();
    for &(table, column) in SEALED_COLUMNS {
        let blobs = raw_rows(
            backend,
            &format!("SELECT {column} FROM {table} WHERE {column} IS NOT NULL"),
        )
        .await;
        assert!(!blobs.is_empty(), "{table}.{column} on {}", backend.name);
        ids.extend(blobs.iter().map(|blob| Sealer::key_id(blob).unwrap()));
    }
    ids
}

#[tokio::test]
async fn a_rotation_reseals_every_value_and_resumes_after_a_stop() {
    for backend in backends("rotation").await {
        let root = Keys::from_bytes([42u8; 32]);
        let store = open(&backend.url).await;
        let resident = fill_every_sealed_column(&store).await;
        for family in [
            "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村",
        ] {
            store
                .register(japanese(family).parse(today()).unwrap(), &admin("test"))
                .await
                .unwrap();
        }
        let before = store.resident(resident).await.unwrap();
        let history = store.history(resident).await.unwrap().len();
        store.close().await;
        drop(store);

        let rotated = root.with_new_data_key();
        assert_eq!(rotated.data_key_ids(), vec![1, 2]);
        let store = Store::open(&backend.url, &rotated).await.unwrap();
        assert_eq!(store.data_key_ids(), vec![1, 2]);
        // Stopped after two batches of three, as a kill would.
        for _ in 0..2 {
            let step = store.reseal_batch(3).await.unwrap();
            assert!(!step.done, "on {}", backend.name);
            assert_eq!(step.target_key_id, 2);
        }
        store.close().await;
        drop(store);
        assert_eq!(
            stored_key_ids(&backend).await,
            [1, 2].into(),
            "half-way on {}",
            backend.name
        );

        // Run again: it goes on from its cursor, not from the start.
        let store = Store::open(&backend.url, &rotated).await.unwrap();
        let mut step = store.reseal_batch(3).await.unwrap();
        assert!(
            step.scanned > 6,
            "resumed at {} on {}",
            step.scanned,
            backend.name
        );
        let mut batches = 1;
        while !step.done {
            step = store.reseal_batch(3).await.unwrap();
            batches += 1;
            assert!(batches < 100);
        }
        let counts = store.sealed_key_counts().await.unwrap();
        assert!(
            counts.iter().all(|count| count.key_id == Some(2)),
            "{counts:?} on {}",
            backend.name
        );
        store.reset_reseal().await.unwrap();
        store.close().await;
        drop(store);
        assert_eq!(
            stored_key_ids(&backend).await,
            [2].into(),
            "on {}",
            backend.name
        );

        // The old key retired: everything opens with the new one alone, and the
        // numbers (FF1) and blind indexes (search by birth date) are unchanged.
        let store = Store::open(&backend.url, &rotated.without_old_data_keys())
            .await
            .unwrap();
        assert_eq!(store.data_key_ids(), vec![2]);
        let after = store.resident(resident).await.unwrap();
        assert_eq!(
            serde_json::to_value(&after).unwrap(),
            serde_json::to_value(&before).unwrap()
        );
        assert_eq!(after.my_number.as_digits(), before.my_number.as_digits());
        assert_eq!(
            store
                .resident_by_number(&before.my_number)
                .await
                .unwrap()
                .resident_key,
            resident
        );
        assert_eq!(store.history(resident).await.unwrap().len(), history);
        assert!(store.notice(resident).await.unwrap().is_some());
        assert!(store.apply_link(&[3u8; 32]).await.unwrap().is_some());
        assert_eq!(store.card("0123456789ABCDEF").await.unwrap().1, b"chip");
        assert_eq!(store.certificate("AA01").await.unwrap().1, b"certificate");
        assert!(!store.due_mail(10).await.unwrap().is_empty());
        let found = store
            .search(
                &"131016".parse().unwrap(),
                NaiveDate::from_ymd_opt(1990, 4, 1).unwrap(),
                "花子",
                100,
            )
            .await
            .unwrap();
        assert!(
            found.len() >= 9,
            "{} found on {}",
            found.len(),
            backend.name
        );
        store.close().await;
    }
}

/// A value sealed with a key the key file no longer holds does not open: the
/// retirement must wait for the job, and the job must see every column.
#[tokio::test]
async fn without_the_old_key_an_unresealed_value_does_not_open() {
    for backend in backends("rotationearly").await {
        let store = open(&backend.url).await;
        let resident = fill_every_sealed_column(&store).await;
        store.close().await;
        drop(store);
        let retired_too_early = Keys::from_bytes([42u8; 32])
            .with_new_data_key()
            .without_old_data_keys();
        let store = Store::open(&backend.url, &retired_too_early).await.unwrap();
        let error = store.resident(resident).await.unwrap_err();
        assert!(error.to_string().contains("data key 1"), "{error}");
        store.close().await;
    }
}
