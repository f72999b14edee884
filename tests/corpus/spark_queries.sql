-- Executed-result corpus for tests/test_mlsql_corpus.py: valid Spark SQL, one query per entry.
--
-- Format: an entry starts after a line that is exactly `-- next` or `-- next: ordered` and runs up to
-- the next such line (leading and trailing blank lines are dropped; anything else, comments and a final
-- `;` included, is sent to the gateway verbatim as one statement). `-- next: ordered` means the row order
-- of the following entry is significant (its ORDER BY is a total order); other entries compare as
-- multisets. This header, before the first separator, is ignored. No entry may contain a line that is
-- exactly a separator.
--
-- Fixture objects (see TABLES and VIEWS in the test): corpus_db.emp, dept, sales, nums, events, data,
-- `result`; temporary views people, `odd view`, out. Entries must be deterministic: no rand(), no
-- current_date()/now(), no TABLESAMPLE percent/bucket, LIMIT only after a total ORDER BY.

-- next
select 1
-- next
select 1 as a
-- next
SELECT 1 AS A, 'x' AS B
-- next
sElEcT Id, NaMe FrOm CoRpUs_Db.EmP
-- next
select id, name from corpus_db.emp;
-- next
   select    id ,name
	from	corpus_db.emp
   where  id   >   3   ;   
-- next
-- a leading line comment
select id from corpus_db.emp -- a trailing line comment
-- next
/* a leading block comment */ select /* inline */ id /* another */ from corpus_db.emp /* trailing */
-- next
select /* nested /* block */ comment */ count(*) as n from corpus_db.emp
-- next
select id -- comment with ; a semicolon
from corpus_db.emp
-- next
select id /* comment with ; and 'quote */ from corpus_db.emp
-- next
select * from corpus_db.dept
-- next
select distinct dept_id from corpus_db.emp
-- next
select d.* from corpus_db.dept as d
-- next
select count(*), count(dept_id), count(distinct dept_id) from corpus_db.emp
-- next: ordered
select id, name from corpus_db.emp order by id
-- next: ordered
select id, name from corpus_db.emp order by id desc limit 3
-- next: ordered
select id, salary from corpus_db.emp order by salary desc nulls last, id
-- next: ordered
select id, salary from corpus_db.emp order by salary asc nulls first, id limit 4 offset 1
-- next
select id, dept_id from corpus_db.emp distribute by dept_id sort by id
-- next
select id, dept_id from corpus_db.emp cluster by dept_id
-- next
from corpus_db.emp select id, name where dept_id = 10
-- next
table corpus_db.dept
-- next
select `id`, `name` from `corpus_db`.`emp` as `e`
-- next
select `weird col`, `from`, `a.b` from `odd view`
-- next
select o.`weird col` as `another weird`, o.`from` as `select` from `odd view` o
-- next
select `select` as `from` from corpus_db.`result`
-- next
select id, `select` from corpus_db.`result` as `result`
-- next
select * from people
-- next
select out from out as out
-- next
select id, out from out where out > '002'
-- next
select x as data from corpus_db.data as data
-- next
select data.data as data from corpus_db.data as data
-- next
select * from corpus_db.data as t2
-- next
select t2.x from corpus_db.data as t2
-- next
select * from corpus_db.data as result
-- next
select emp.id, emp.name from corpus_db.emp as emp
-- next
select e.id as e from corpus_db.emp as e
-- next
select 1 as `my view`, 2 as `with space`
-- next
select id as id from corpus_db.emp as id
-- next
select e.name, d.dname from corpus_db.emp e join corpus_db.dept d on e.dept_id = d.dept_id
-- next
select e.name, d.dname from corpus_db.emp e right join corpus_db.dept d on e.dept_id = d.dept_id
-- next
select e.name, d.dname from corpus_db.emp e full join corpus_db.dept as d on e.dept_id = d.dept_id
-- next
select * from corpus_db.emp e left semi join corpus_db.dept d on e.dept_id = d.dept_id
-- next
select * from corpus_db.dept d left anti join corpus_db.emp e on e.dept_id = d.dept_id
-- next
select * from corpus_db.dept d anti join corpus_db.emp as e on e.dept_id = d.dept_id
-- next
select d.dname, x.x from corpus_db.dept d cross join corpus_db.data as x
-- next
select dname, x from corpus_db.dept, corpus_db.data as y
-- next
select * from corpus_db.emp join corpus_db.dept using (dept_id)
-- next
select * from corpus_db.dept natural join corpus_db.emp as e
-- next
select e.name, m.name as manager from corpus_db.emp as e left join corpus_db.emp as m on e.manager_id = m.id
-- next
select emp.name, dept.dname from corpus_db.emp as emp join corpus_db.dept as dept on emp.dept_id = dept.dept_id
-- next
select e.name, d.dname, s.qty
from corpus_db.emp e
join corpus_db.dept d on e.dept_id = d.dept_id
left join corpus_db.sales s on s.id = e.id
-- next
select a.n, b.n from corpus_db.nums a join corpus_db.nums b on a.n = b.n + 1 and a.m > b.m
-- next
select /*+ BROADCAST(d) */ e.id, d.dname from corpus_db.emp e join corpus_db.dept d on e.dept_id = d.dept_id
-- next
select /*+ REPARTITION(3) */ id from corpus_db.emp
-- next
select p.name, o.out from people as p join out as o on p.id = o.id
-- next
select t.x, t.data from (select x, data from corpus_db.data) as t join corpus_db.data as data on t.x = data.x
-- next
select name, (select dname from corpus_db.dept d where d.dept_id = e.dept_id) as dname from corpus_db.emp e
-- next
select name from corpus_db.emp where salary > (select avg(salary) from corpus_db.emp)
-- next
select name from corpus_db.emp where dept_id in (select dept_id from corpus_db.dept where location = 'NYC')
-- next
select dname from corpus_db.dept d where exists (select 1 from corpus_db.emp e where e.dept_id = d.dept_id)
-- next
select dname from corpus_db.dept d where not exists (select 1 from corpus_db.emp e where e.dept_id = d.dept_id)
-- next
select * from (select id, name from corpus_db.emp where id < 4) as sub
-- next
select s.dept_id, s.total from (select dept_id, sum(salary) as total from corpus_db.emp group by dept_id) s
-- next
select * from (select id from corpus_db.emp) as emp
-- next
select name from corpus_db.emp where name like any ('A%', 'E%') or name ilike all ('%O%', 'b%')
-- next
select n from corpus_db.nums where (n, m) in (select x, x % 3 from corpus_db.data)
-- next
select (select count(*) from corpus_db.dept) as depts, (select max(n) from corpus_db.nums) as top
-- next
select * from values (1), (2), (3) as t(a), lateral (select t.a * 10 as b) as l
-- next
select e.id, l.c from corpus_db.emp e, lateral (select count(*) as c from corpus_db.emp x where x.dept_id = e.dept_id) l
-- next
with x as (select 1 as a) select * from x
-- next
with x as (select 1 as a) select a from x as y
-- next
with x as (select 1 as a), y as (select 2 as b) select * from x, y as z
-- next
with d as (select * from corpus_db.dept), e as (select * from corpus_db.emp where dept_id is not null)
select d.dname, count(*) as n from e join d on e.dept_id = d.dept_id group by d.dname
-- next
with big as (with inner_cte as (select n from corpus_db.nums where n > 10) select n * 2 as n2 from inner_cte)
select sum(n2) from big
-- next
with t(a, b) as (select 1, 2) select a + b as s from t
-- next
with data as (select x as data from corpus_db.data) select data from data as data
-- next
with result as (select 1 as result) select result from result as result
-- next: ordered
with recursive r(n) as (select 1 union all select n + 1 from r where n < 5) select n from r order by n
-- next
with x as (select n from corpus_db.nums where n < 3) select * from x union all select * from x
-- next
select * from (with q as (select 42 as answer) select answer from q) as wrapped
-- next
select n, rank() over (partition by m order by f) as r from corpus_db.nums
-- next
select n, row_number() over (partition by g order by n desc) as rn from corpus_db.nums
-- next
select id, salary, percent_rank() over (order by salary, id) as pr from corpus_db.emp
-- next
select n, lag(n) over (order by n) as prev, lead(n, 2, -1) over (order by n) as nxt from corpus_db.nums
-- next
select n, first_value(n) over (partition by m order by n) as fv, last_value(n) over (partition by m order by n rows between unbounded preceding and unbounded following) as lv from corpus_db.nums
-- next
select n, sum(n) over (order by n rows between unbounded preceding and current row) as running from corpus_db.nums
-- next
select n, avg(f) over (order by n rows between 2 preceding and 2 following) as moving from corpus_db.nums
-- next
select n, max(d) over w as mx, min(d) over w as mn from corpus_db.nums window w as (partition by m)
-- next
select n, sum(n) over w1 as s1, rank() over w2 as r2 from corpus_db.nums window w1 as (partition by m), w2 as (order by n desc)
-- next
select id, nth_value(name, 2) over (partition by dept_id order by id) as second from corpus_db.emp
-- next
select dept_id, name from (select dept_id, name, row_number() over (partition by dept_id order by salary desc nulls last, id) as rn from corpus_db.emp) ranked where rn = 1
-- next
select id, dept_id from corpus_db.emp qualify row_number() over (partition by dept_id order by id) = 1
-- next
select region, product, qty from corpus_db.sales qualify rank() over (partition by region order by qty desc, id) <= 2
-- next
select dept_id, count(*) as n, sum(salary) as total, avg(salary) as mean from corpus_db.emp group by dept_id having count(*) > 1
-- next
select dept_id, manager_id, count(*) from corpus_db.emp group by all
-- next
select region, product, sum(qty) from corpus_db.sales group by region, product with rollup
-- next
select region, product, sum(qty) as q, grouping(region) as gr, grouping_id(region, product) as gid from corpus_db.sales group by cube(region, product)
-- next
select region, product, sum(qty) from corpus_db.sales group by grouping sets ((region), (region, product), ())
-- next
select m, array_sort(collect_list(n)) as ns, size(collect_list(g)) as gs from corpus_db.nums group by m
-- next
select m, sort_array(collect_set(g)) as gs from corpus_db.nums group by m
-- next
select m, min(n), max(n), stddev_samp(n), var_pop(n), corr(n, f) from corpus_db.nums group by m
-- next
select count(*) filter (where n > 10) as big, count(*) filter (where n <= 10) as small from corpus_db.nums
-- next
select percentile_cont(0.5) within group (order by n) as median, percentile(n, 0.25) as q1 from corpus_db.nums
-- next
select listagg(name, ',') within group (order by name) as names from corpus_db.emp
-- next
select dept_id, string_agg(name, '|') within group (order by id) as names from corpus_db.emp group by dept_id
-- next
select max_by(name, salary), min_by(name, salary) from corpus_db.emp
-- next
select 1 as a union select 2 as a
-- next
select 1 union select 2 as out
-- next
select n from corpus_db.nums where n < 5 union all select x from corpus_db.data as x
-- next
select n from corpus_db.nums intersect select x from corpus_db.data
-- next
select n from corpus_db.nums where n < 6 minus select x from corpus_db.data
-- next: ordered
select n from corpus_db.nums where n < 4 union select x from corpus_db.data order by n desc
-- next
(select n from corpus_db.nums where n = 1) union all (select n from corpus_db.nums where n = 2)
-- next
select * from (select 1 as a union all select 2) as u
-- next
select a.n from (select n from corpus_db.nums where n < 3) a union all select b.x from corpus_db.data as b
-- next
select id, tag from corpus_db.emp lateral view explode(tags) t as tag
-- next
select id, tag from corpus_db.emp lateral view outer explode(tags) t as tag
-- next
select id, pos, tag from corpus_db.emp lateral view posexplode(tags) p as pos, tag
-- next
select id, k, v from corpus_db.emp lateral view explode(attrs) kv as k, v
-- next
select id, t.tag, n.num from corpus_db.emp lateral view explode(tags) t as tag lateral view explode(array(1, 2)) n as num
-- next
select explode(array(10, 20, 30)) as x
-- next
select posexplode(array('a', 'b')) as (p, v)
-- next
select explode(map('a', 1, 'b', 2)) as (k, v)
-- next
select inline(array(struct(1, 'a'), struct(2, 'b'))) as (n, s)
-- next
select stack(2, 1, 'x', 2, 'y') as (i, c)
-- next
select * from explode(array(1, 2, 3))
-- next
select * from range(1, 10, 3) as r
-- next
select r.id from range(4) r
-- next
select * from values (1, 2), (3, 4) as v(a, b)
-- next
values (1, 'a'), (2, 'b') as v(id, name)
-- next
values 1, 2, 3
-- next
values (1), (2) as t
-- next
select 1 as a union all values (2) as v
-- next
select a + b as s from values (1, 2), (3, 4) as v(a, b)
-- next
select v.* from values (date '2024-01-01', array(1, 2)) as v(d, arr)
-- next
select * from values (1, 'one') as v(n, data), corpus_db.data as d where v.n = d.x
-- next
select * from values (1) as v(a) where a = 1
-- next
select * from corpus_db.emp tablesample (100 rows)
-- next
select id from corpus_db.emp tablesample (50 rows) as s
-- next
select * from (select region, product, qty from corpus_db.sales) pivot (sum(qty) for product in ('apple', 'pear', 'fig'))
-- next
select * from (select region, product, qty from corpus_db.sales) pivot (sum(qty) as total, count(qty) as cnt for product in ('apple' as a, 'fig' as f)) as p
-- next
select * from values (1, 10, 20), (2, 30, null) as t(id, q1, q2) unpivot (v for quarter in (q1, q2))
-- next
select * from values (1, 10, 20), (2, 30, null) as t(id, q1, q2) unpivot include nulls (v for quarter in (q1 as first, q2 as second)) as u
-- next
select * from values (1, 10, 20, 3, 4) as t(id, a1, a2, b1, b2) unpivot ((a, b) for k in ((a1, b1) as one, (a2, b2) as two))
-- next
select transform(nums, x -> x * 2) as doubled from corpus_db.events
-- next
select filter(nums, x -> x % 2 = 1) as odds from corpus_db.events
-- next
select aggregate(nums, 0, (acc, x) -> acc + x) as total, aggregate(nums, 1L, (acc, x) -> acc * x, acc -> acc + 1) as prod from corpus_db.events
-- next
select zip_with(array(1, 2), array(10, 20), (a, b) -> a + b) as z
-- next
select map_filter(map('a', 1, 'b', 2), (k, v) -> v > 1) as mf, transform_values(map('a', 1), (k, v) -> v + 1) as tv, transform_keys(map('a', 1), (k, v) -> upper(k)) as tk
-- next
select array_sort(array(3, 1, 2), (l, r) -> case when l < r then 1 when l > r then -1 else 0 end) as desc_sorted
-- next
select array(1, 2, 3) as arr, map('k', 1) as m, named_struct('x', 1, 'y', 'z') as s
-- next
select payload.kind, payload.score, try_element_at(nums, 1), get(nums, 0), props['a'] from corpus_db.events
-- next
select array_contains(tags, 'a'), array_distinct(tags), array_join(tags, '-'), array_max(tags) from corpus_db.emp
-- next
select flatten(array(array(1), array(2, 3))), sequence(1, 5, 2), slice(array(1, 2, 3, 4), 2, 2), array_repeat('a', 2)
-- next
select map_keys(attrs), map_values(attrs), map_concat(attrs, map('z', 'last')) from corpus_db.emp where attrs is not null
-- next
select struct(id, name) as s, struct(id as i, name as nm).nm as nm from corpus_db.emp
-- next
select to_json(named_struct('a', 1, 'b', array(1, 2))) as j, from_json('{"a": 5}', 'a INT').a as a
-- next
select get_json_object(js, '$.user') as u, json_tuple(js, 'n', 'user') from corpus_db.events
-- next
select parse_json(js):user::string as u, parse_json(js):n::int as n from corpus_db.events
-- next
select schema_of_json('{"a": [1, 2]}') as s, json_array_length('[1, 2, 3]') as l
-- next
select map_from_arrays(array('a', 'b'), array(1, 2)) as m, str_to_map('a:1,b:2') as sm, map_entries(map('x', 1)) as e
-- next
select cast(1.5 as decimal(10, 2)) as d, 1.5bd as bd, 123.456 as lit, cast('9.995' as decimal(4, 2)) as rounded
-- next
select d, d * 2, d / 3, d + 0.001, sum(d) over () from corpus_db.nums
-- next
select dept_id, sum(salary), avg(salary), max(salary) - min(salary) from corpus_db.emp group by dept_id
-- next
select cast(12345678901234567890.123 as decimal(38, 3)) * 10 as big
-- next
select price * qty as amount, price / qty as unit, try_divide(price, qty - qty) as safe from corpus_db.sales
-- next
select date '2024-01-01' as d, timestamp '2024-01-01 10:00:00' as ts, timestamp_ntz '2024-02-29 23:59:59' as ntz
-- next
select sold_on, year(sold_on), month(sold_on), day(sold_on), dayofweek(sold_on), weekofyear(sold_on), quarter(sold_on) from corpus_db.sales
-- next
select date_add(hired, 30), date_sub(hired, 1), datediff(date '2025-01-01', hired), months_between(date '2025-01-01', hired) from corpus_db.emp
-- next
select date_trunc('month', sold_at) as m, trunc(sold_on, 'year') as y, last_day(sold_on) as ld, next_day(sold_on, 'Mon') as nd from corpus_db.sales
-- next
select make_date(2024, 2, 29) as d, make_timestamp(2024, 1, 2, 3, 4, 5.5) as ts, unix_timestamp(timestamp '2024-01-01 00:00:00', 'yyyy') is not null as ok
-- next
select interval 1 day as i1, interval '2' hour as i2, interval '1-2' year to month as i3, interval '1 02:03:04' day to second as i4
-- next
select sold_at + interval 90 minutes as later, sold_on - interval 1 month as earlier from corpus_db.sales
-- next
select timestamp '2024-03-01 00:00:00' - timestamp '2024-02-28 12:00:00' as diff
-- next
select make_interval(1, 2, 0, 3) as mi, make_dt_interval(1, 2, 3, 4.5) as dt, make_ym_interval(1, 6) as ym
-- next
select timestampadd(hour, 5, sold_at) as plus5, timestampdiff(day, timestamp '2024-01-01 00:00:00', sold_at) as days from corpus_db.sales
-- next
select upper(name), lower(name), initcap('hello world'), length(name), char_length(name) from corpus_db.emp
-- next
select concat(name, '-', id), concat_ws('/', name, dname, location) from corpus_db.emp e left join corpus_db.dept d on e.dept_id = d.dept_id
-- next
select substr(name, 2), substring(name, 1, 3), substring(name from 2 for 2), left(name, 2), right(name, 2) from corpus_db.emp
-- next
select trim('  x  '), ltrim('  x'), rtrim('x  '), trim(both 'x' from 'xxaxx'), trim(leading '0' from '007') as t
-- next
select name from corpus_db.emp where name like 'B%' or name ilike 'c%' or name rlike '^[Ff]'
-- next
select regexp_replace(name, '[aeiou]', '_'), regexp_extract(name, '([A-Z])([a-z]+)', 2), regexp_like(name, 'b') from corpus_db.emp
-- next
select ascii('A'), chr(66), base64('hi'), unbase64('aGk=') is not null, hex(255), unhex('FF') is not null, md5('x'), sha2('x', 256)
-- next
select soundex('Robert'), levenshtein('kitten', 'sitting'), overlay('SparkSQL' placing '_' from 6 for 0), format_number(1234567.891, 2)
-- next
select 'it''s' as a, 'say "hi"' as b, "double 'quoted'" as c, 'back\\slash' as d, 'tab\there' as e
-- next
select 'O''Brien' as name, 'x' 'y' 'z' as concatenated, r'C:\path\n' as raw
-- next
select name, case when salary >= 5000 then 'high' when salary >= 3000 then 'mid' when salary is null then 'unknown' else 'low' end as band from corpus_db.emp
-- next
select if(bonus > 0.1, 'big', 'small') as b, if(n > 1, 1, 0) as i from corpus_db.emp, (select 2 as n)
-- next
select cast('42' as int), cast(3.9 as int), cast(1 as boolean), cast('2024-01-01' as date), cast(12 as string), cast(1.0 / 3 as double)
-- next
select try_cast('abc' as int) as bad, try_cast('12' as bigint) as ok, '7'::int + 1 as colon_cast
-- next
select cast(named_struct('a', 1) as struct<a: string>) as s, cast(array('1', '2') as array<int>) as arr
-- next
select typeof(1), typeof(1L), typeof(1.5), typeof(1.5d), typeof('x'), typeof(date '2024-01-01'), typeof(array(1))
-- next
select null as n, cast(null as int) as ni, null is null as isn, nvl(null, 1), coalesce(null, null, 3), nullif(1, 1), ifnull(null, 'x')
-- next
select null = null, null <=> null, 1 is distinct from null, not (1 > 2), true and null, false or null
-- next
select 7 % 3, -7 div 2, pow(2, 10), sqrt(16), abs(-3), sign(-2.5), greatest(1, 5, 3), least(4, 2), mod(10, 4), pmod(-7, 3)
-- next
select 1 + 2 * 3 - 4 / 2, 5 & 3, 5 | 3, 5 ^ 3, ~5, shiftleft(1, 4), 10L, 2S, 3Y, 1e3, x'1F' as bin
-- next
select ln(exp(2)), log10(1000), log(2, 8), round(pi(), 4), degrees(radians(90)), cbrt(27.0)
-- next
select id, -- the id
       name /* the name */
from corpus_db.emp
where /* only some */ id in (1, 2)
-- next
SELECT
    e.ID AS EmployeeId,
    UPPER(e.Name) AS EmployeeName
FROM
    Corpus_Db.Emp AS E
WHERE
    E.Dept_Id = 10
-- next
select
id
,
name
from
corpus_db.emp
-- next
select 'a;b' as semicolon, "c;d" as dq, 'e'';f' as esc
-- next
select name from corpus_db.emp where name <> 'x; y' and ';' <> '';
-- next
select concat(';', name, ';') as wrapped from corpus_db.emp ;
-- next
select 1 as a;;
-- next
select 1 as `a;b`, `weird col` as `x -- y` from `odd view` as `v;w`
-- next
select 'a -- not a comment' as a, '/* not a comment */' as b
-- next
select `from` from `odd view` where `from` = 'y;z'
-- next
select 'line1
line2; still the string' as two_lines
-- next
select '${not_a_variable}' as unknown_is_emptied, '$${x}' as dollars
-- next
select * from corpus_db.emp where name = '${hivevar:nobody}'
-- next
select 'as' as `as`, 'where' as `where`
-- next
select 1 as select_as, 2 as as_t
-- next
select name as train, id as run, dept_id as save from corpus_db.emp
-- next
select load, `set` from (select 1 as load, 2 as `set`) as t
-- next
select 1 as date, 2 as year, 3 as `month`, 4 as value, 5 as key, 6 as comment, 7 as type, 8 as status
-- next
select 1 as result, 2 as out, 3 as data, 4 as first, 5 as last, 6 as user
-- next
from values (1, 2), (3, 4) as t(a, b) |> where a > 1 |> select a + b as s
-- next
from corpus_db.emp |> as e |> select e.id as eid
-- next
table corpus_db.dept |> extend upper(dname) as up |> drop location
-- next
from corpus_db.nums |> aggregate sum(n) as total group by m |> order by m
-- next
select * from identifier('corpus_db.dept') as d
-- next
select * from identifier('range')(3) as r
-- next
select r.id as x from identifier('range')(3) as r
-- next
select mask('AbCd-123', upperChar => 'X') as m
-- next
select 'a' collate utf8_lcase = 'A' as eq, collation('a' collate utf8_lcase) as c
-- next
select parse_json('{"a": 1, "b": [true, null]}') as v
-- next
select variant_get(parse_json('{"a": {"b": 5}}'), '$.a.b', 'int') as b
-- next
select id, parse_json(js):n as n from corpus_db.events
-- next
select parse_json('{"a": {"b": [1, 2]}}'):a.b[1] as second
-- next
select parse_json('{"a": 1}'):a as c
-- next
select time '12:34:56' as t
-- next
select id, name from corpus_db.emp order by id limit 0
-- next: ordered
select region, sum(qty) as q from corpus_db.sales where region is not null group by region order by q desc, region
-- next: ordered
select n from corpus_db.nums order by n limit 3 offset 10
-- next
describe corpus_db.emp
-- next
desc corpus_db.dept
-- next
describe extended corpus_db.data
-- next
describe formatted corpus_db.emp salary
-- next
describe function upper
-- next
describe query select id, name from corpus_db.emp as e
-- next
describe people
-- next
show databases like 'corpus*'
-- next
show tables in corpus_db
-- next
show views
-- next
show columns in corpus_db.emp
-- next
show system functions like 'array_s*'
-- next
show functions like 'date_*'
-- next
show create table corpus_db.dept
-- next
show table extended in corpus_db like 'dept'
-- next
show tblproperties corpus_db.nums ('nope')
-- next
set spark.sql.ansi.enabled
-- next
select 1 as a -- C:\tmp\
; select 2 as b
-- next
select ''';' as b, '''' as c
-- next
BEGIN
  DECLARE total INT DEFAULT 0;
  FOR r AS SELECT id FROM range(4) DO
    SET total = total + r.id;
  END FOR;
  SELECT total AS total;
END
-- next
BEGIN
  DECLARE x INT DEFAULT 10;
  IF x > 5 THEN
    SELECT 'big' AS size;
  ELSE
    SELECT 'small' AS size;
  END IF;
END
