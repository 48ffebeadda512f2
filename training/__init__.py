"""mgvton lab: MG-VTON networks, losses, training, distillation, export and evaluation.

Run from the repository root as ``python -m training COMMAND`` (see ``__main__``).
The paper implemented here is *MG-VTON: A Lightweight Virtual Try-on Model with
Knowledge Distillation for Real-time Performance*; the baseline it improves on is
DM-VTON (Nguyen-Ngoc et al., 2023), itself built on PF-AFN (Ge et al., 2021).
"""
