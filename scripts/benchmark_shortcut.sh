#!/usr/bin/env bash
# The shortcut benchmark of applications/shortcut_benchmark, resumable:
# finished runs are kept in each output directory's results.json, so rerun
# the same command after an interruption.
#
#   bash scripts/benchmark_shortcut.sh \
#     [calibration|lenet5|anywhere|lenet5_variants|vgg_small|clean|faithfulness|margin|all]
#
# Each part trains to convergence (early stopping on a validation split
# carved from the training images) on the full Fashion-MNIST training set.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh tensorflow
export TF_CPP_MIN_LOG_LEVEL=2
out=applications/shortcut_benchmark
part="${1:-all}"

# Ross et al.'s λ1 on 0-255 pixels -> rrr_weight on [0, 1] pixels (λ1/255²).
ross_sweep="rrr_decoy@1.53787e-05 rrr_decoy@0.000153787 rrr_decoy@0.00153787
  rrr_decoy@0.153787 rrr_decoy@1.53787 rrr_decoy@15.3787"

bench() {  # bench VARIANT ARCHITECTURE DIR [options...]
  local variant="$1" architecture="$2" dir="$3"; shift 3
  keras-xai benchmark shortcut --variant "$variant" --architecture "$architecture" \
    --output-dir "$out/$dir" "$@"
}

if [[ "$part" == calibration || "$part" == all ]]; then
  # Ross et al.'s MLP and optimiser settings (batch 256, at most 64 epochs).
  mlp=(--batch-size 256 --max-epochs 64 --patience 5)
  bench ross mlp ross_mlp "${mlp[@]}" \
    --arms ceiling floor rrr_decoy@0.0153787 --seeds 0 1 2 3 4
  # shellcheck disable=SC2086
  bench ross mlp ross_mlp "${mlp[@]}" \
    --arms $ross_sweep rrr_background@0.0153787 --seeds 0 1 2
fi
if [[ "$part" == lenet5 || "$part" == all ]]; then
  bench ross lenet5 ross_lenet5 --arms ceiling floor rrr_decoy@0.0153787 --seeds 0 1 2
  bench ross lenet5 ross_lenet5 --arms rrr_background@0.0153787 so_1view \
    rrr_gradcam_decoy@1 cam_fit consistency consistency_native impactx --seeds 0 1 2
  # Controls: the patch annotation shuffled over the images; IMPACTX with
  # λ = 0, with shuffled targets, and the CE model trained on; 5 seeds.
  bench ross lenet5 ross_lenet5 --arms rrr_decoy_shuffled@0.0153787 \
    impactx_no_target impactx_shuffled floor_continued --seeds 0 1 2
  bench ross lenet5 ross_lenet5 --arms ceiling floor rrr_decoy@0.0153787 --seeds 3 4
fi
if [[ "$part" == anywhere || "$part" == all ]]; then
  bench anywhere lenet5 anywhere_lenet5 --arms ceiling floor rrr_decoy@0.0153787 \
    rrr_gradcam_decoy@1 so_1view cam_fit consistency_native rrr_background@0.0153787 \
    impactx rrr_decoy_shuffled@0.0153787 --seeds 0 1 2
fi
if [[ "$part" == lenet5_variants || "$part" == all ]]; then
  bench ross lenet5 ross_lenet5 --arms rrr_gradcam_decoy@10 rrr_gradcam_decoy@100 \
    rrr_decoy@0.153787 rrr_decoy@0.00153787 so_1view_signed so_1view_all_classes \
    so_1view_noblur so_8views so_1view_strong so_1view_conv2 so_1view_two_phase \
    --seeds 0 1 2
fi
if [[ "$part" == vgg_small || "$part" == all ]]; then
  bench ross vgg_small ross_vgg_small --arms ceiling floor rrr_decoy@0.0153787 \
    so_1view consistency --seeds 0 1 2
fi
if [[ "$part" == clean || "$part" == all ]]; then
  # IMPACTX against its own controls on the plain images (no shortcut):
  # λ = 0, shuffled targets and the CE model trained on, paired to CE.
  bench clean lenet5 clean_lenet5 --arms floor impactx impactx_no_target \
    impactx_shuffled floor_continued --seeds 0 1 2 3 4
  # The paper's targets: PartitionSHAP with 2,000 evaluations per image
  # (seeds 1 and 2 are measured in the faithfulness part).
  bench clean lenet5 clean_lenet5 --arms impactx_shap --seeds 0
fi
if [[ "$part" == faithfulness || "$part" == all ]]; then
  # The same runs, each also measured by MoRF AOPC on 500 test images: the
  # model's own map against PartitionSHAP and random maps on that model.
  # The first stages are the clean part's (copied if it has them).
  mkdir -p "$out/clean_lenet5_faithfulness"
  if [[ -d "$out/clean_lenet5/stage_one" ]]; then
    cp -rn "$out/clean_lenet5/stage_one" "$out/clean_lenet5_faithfulness/"
  fi
  for seed in 0 1 2; do
    bench clean lenet5 clean_lenet5_faithfulness --faithfulness-images 500 \
      --arms impactx impactx_no_target impactx_shuffled --seeds "$seed"
  done
  bench clean lenet5 clean_lenet5_faithfulness --faithfulness-images 500 \
    --arms impactx_shap --seeds 1 2 0
  # SHAP and random maps on the CE model trained on as long.
  bench clean lenet5 clean_lenet5_faithfulness --faithfulness-images 500 \
    --arms floor_continued --seeds 0 1 2
fi
if [[ "$part" == margin || "$part" == all ]]; then
  # The padded-margin variant (the segment-overlap reproduction's): the
  # calibration arms, to place it beside the Ross variant.
  bench margin lenet5 margin_lenet5 --arms ceiling floor rrr_decoy@0.0153787 \
    --seeds 0 1 2
fi
