"""What panels ask of the product, behind one Qt-free interface: the demo's local store or a deployment.

`base.Backend` is the interface; `local.LocalBackend` acts on the replica (the demo), and
`deployment.DeploymentBackend` through the console contract as the operator (live mode). The GUI picks
one in one place (`AppContext.backend`); panels never branch on the mode.
"""
