//! Run-Off Election on scikit-learn's digits: trains a DPA ensemble of `k`
//! logistic regressions on hash partitions of the first 1,400 images,
//! prints the certified accuracy of DPA and DPA+ROE at a few radii, and
//! optionally writes the ensemble's logits as `sample,model,class,logit`
//! for `duality eval roe --votes`.
//!
//! ```text
//! cargo run -p duality-eval --example roe_digits -- [K] [LOGITS.csv]
//! duality eval roe --votes LOGITS.csv --format json
//! ```

use std::io::Write;

use duality_eval::poisoning::{
    certified_accuracy, train_and_score, Certifier, ImageDataset, Layout, LogisticParams, Method,
    PartitionHash,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let k: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(50);
    let out = args.next();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/eval/digits.csv"
    );
    let data = ImageDataset::read_csv(std::fs::File::open(path)?, "digits.csv")?;
    let (train, test) = data.split(1400)?;
    let layout = Layout::dpa(k)?;
    // The reference's hash: pixel sum mod k.
    let table = train_and_score(
        &train,
        &test,
        &layout,
        PartitionHash::PixelSum,
        &LogisticParams::default(),
    )?;
    let certifier = Certifier::new(&table, &layout)?;
    let radii: Vec<usize> = (0..=k / 2).step_by((k / 10).max(1)).collect();
    println!(
        "k = {k}, {} test images; certified accuracy at radius {radii:?}",
        test.len()
    );
    for method in [Method::Dpa, Method::DpaRoe] {
        let acc = certified_accuracy(&certifier.certify_all(method)?, test.labels(), k / 2)?;
        let cells: Vec<String> = radii.iter().map(|&r| format!("{:.3}", acc[r])).collect();
        println!("{:>8}: {}", method.name(), cells.join(" "));
    }
    if let Some(out) = out {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&out)?);
        writeln!(f, "sample,model,class,logit")?;
        for s in 0..table.samples() {
            for m in 0..table.models() {
                for (c, v) in table.logits(s, m).iter().enumerate() {
                    writeln!(f, "{s},{m},{c},{v}")?;
                }
            }
        }
        println!("logits written to {out}");
    }
    Ok(())
}
