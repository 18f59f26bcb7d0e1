drop table widgets;
