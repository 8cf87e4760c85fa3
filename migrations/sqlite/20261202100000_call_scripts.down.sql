DROP TABLE call_scripts;
