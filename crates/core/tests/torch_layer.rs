//! End-to-end checks of the tensor layer (feature `torch`).
#![cfg(feature = "torch")]

use duality_core::tensor::{
    load_checkpoint, manual_seed, save_checkpoint, tch, tensor_from_slice, tensor_to_vec_f64,
    MlpConfig, OptimizerConfig,
};
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

#[test]
fn adam_steps_lower_regression_loss() {
    manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let mlp = MlpConfig::new(1, &[16], 1).build(&vs.root()).unwrap();
    let mut opt = OptimizerConfig::adam(1e-2).build(&vs).unwrap();
    let xs: Vec<f64> = (0..64).map(|i| i as f64 / 32.0 - 1.0).collect();
    let ys: Vec<f64> = xs.iter().map(|x| 3.0 * x - 0.5).collect();
    let x = tensor_from_slice(&xs, &[64, 1])
        .unwrap()
        .to_kind(Kind::Float);
    let y = tensor_from_slice(&ys, &[64, 1])
        .unwrap()
        .to_kind(Kind::Float);
    let loss_of = |m: &dyn Module| (m.forward(&x) - &y).square().mean(Kind::Float);
    let before = loss_of(&mlp).double_value(&[]);
    for _ in 0..50 {
        let loss = loss_of(&mlp);
        opt.backward_step(&loss);
    }
    let after = loss_of(&mlp).double_value(&[]);
    assert!(after < 0.5 * before, "loss {before} -> {after}");
}

#[test]
fn checkpoint_restores_identical_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mlp.ot");
    let cfg = MlpConfig::new(3, &[8, 8], 2);
    let x = Tensor::from_slice(&[0.1f32, -0.2, 0.3, 1.0, 2.0, -3.0]).view([2, 3]);

    manual_seed(1);
    let vs = nn::VarStore::new(Device::Cpu);
    let mlp = cfg.build(&vs.root()).unwrap();
    let out = tensor_to_vec_f64(&mlp.forward(&x)).unwrap();
    save_checkpoint(&vs, &path).unwrap();

    manual_seed(2); // different initialisation
    let mut vs2 = nn::VarStore::new(Device::Cpu);
    let mlp2 = cfg.build(&vs2.root()).unwrap();
    assert_ne!(tensor_to_vec_f64(&mlp2.forward(&x)).unwrap(), out);
    load_checkpoint(&mut vs2, &path).unwrap();
    assert_eq!(tensor_to_vec_f64(&mlp2.forward(&x)).unwrap(), out);

    let err = load_checkpoint(&mut vs2, dir.path().join("missing.ot")).unwrap_err();
    assert!(err.to_string().contains("missing.ot"), "{err}");
}

#[test]
fn bad_shapes_and_configs_are_errors() {
    let vs = nn::VarStore::new(Device::Cpu);
    let mlp = MlpConfig::new(3, &[4], 1).build(&vs.root()).unwrap();
    let wrong = Tensor::zeros([2, 5], (Kind::Float, Device::Cpu));
    let err = mlp.try_forward(&wrong).unwrap_err().to_string();
    assert!(err.contains("MLP input"), "{err}");
    let err = MlpConfig::new(3, &[0], 1)
        .build(&vs.root())
        .unwrap_err()
        .to_string();
    assert!(err.contains("hidden[0]"), "{err}");
    let err = OptimizerConfig::adam(-1.0)
        .build(&vs)
        .unwrap_err()
        .to_string();
    assert!(err.contains("`lr`"), "{err}");
}
