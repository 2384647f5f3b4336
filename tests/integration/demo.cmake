# make demo: the plan scripts/demo.sh makes from its scenarios, taken by a
# real API (the live demo itself uses fixed ports and runs for minutes).
ot_py_test(integration.demo_plan demo_plan.py)
